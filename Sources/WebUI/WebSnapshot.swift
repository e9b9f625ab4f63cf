import JSON

/// What the web UI knows of the system: the daemon's and the trading module's latest answers,
/// kept current by `DaemonPoller` (bus events as they arrive, a full refresh on a timer), so an
/// HTTP request never waits on the daemon. A pure value: every page is rendered from it.
public struct WebSnapshot: Sendable {
    public var daemon: JSON?
    public var health: JSON?
    public var metrics: JSON?
    public var resources: JSON?
    public var modules: [JSON]?
    /// `nil` while the trading module cannot be asked (`tradingError` says why).
    public var engines: [JSON]?
    public var positions: [JSON]?
    public var orders: JSON?
    public var balance: JSON?
    /// Every closed trade, newest first.
    public var trades: [JSON]?
    public var daemonError: String?
    public var tradingError: String?
    /// Wall time of the last refresh that reached the daemon, and of the last trading answer.
    public var updated = 0.0
    public var tradingUpdated = 0.0
    public var charts: [String: SymbolChart] = [:]
    /// Bumped on every change but the charts' (by `WebState.update`): rendered answers are cached per version.
    public var version = 0
    /// Bumped when a chart gains a point: price updates do not re-render the engine table.
    public var chartVersion = 0

    public init() {}

    public var daemonUp: Bool { daemonError == nil && updated > 0 }

    /// Applies an `engine.<SYMBOL>.status` event at once (the next refresh brings the other fields).
    public mutating func applyEngineStatus(symbol: String, status: String, reason: JSON?) {
        guard var list = engines, let i = list.firstIndex(where: { $0["symbol"]?.stringValue == symbol }),
            var engine = list[i].objectValue
        else { return }
        engine["status"] = .string(status)
        engine["reason"] = reason ?? .null
        engine["healthy"] = .bool(status == "running" || status == "paused")
        list[i] = .object(engine)
        engines = list
    }

    /// A module event (`module.started` …) moves the module's state before the next refresh.
    public mutating func applyModuleEvent(_ topic: String, data: JSON) {
        let states = [
            "module.started": "running", "module.stopped": "stopped", "module.crashed": "crashed",
            "module.failed": "fatal", "module.restarted": "running",
        ]
        guard let state = states[topic], let name = data["module"]?.stringValue, var list = modules,
            let i = list.firstIndex(where: { $0["name"]?.stringValue == name }), var module = list[i].objectValue
        else { return }
        module["state"] = .string(state)
        if let reason = data["reason"] { module["reason"] = reason }
        list[i] = .object(module)
        modules = list
    }

    public mutating func recordPrice(symbol: String, ts: Double, price: Double) {
        charts[symbol, default: SymbolChart()].add(price: price, at: ts)
        chartVersion += 1
    }

    public mutating func recordTrade(symbol: String, ts: Double, price: Double, side: String) {
        charts[symbol, default: SymbolChart()].add(marker: side, price: price, at: ts)
        chartVersion += 1
    }

    /// Equity points from a refresh of the engines.
    public mutating func recordEquity(at ts: Double) {
        for engine in engines ?? [] {
            guard let symbol = engine["symbol"]?.stringValue, let equity = engine["equity"]?.doubleValue else {
                continue
            }
            charts[symbol, default: SymbolChart()].add(equity: equity, at: ts)
        }
        chartVersion += 1
    }
}

/// One symbol's recent prices, equity and fills, bounded, for the dashboard's charts.
public struct SymbolChart: Sendable {
    public static let points = 600
    public static let markers = 200
    public private(set) var prices: [(ts: Double, value: Double)] = []
    public private(set) var equity: [(ts: Double, value: Double)] = []
    public private(set) var fills: [(ts: Double, price: Double, side: String)] = []

    public init() {}

    mutating func add(price: Double, at ts: Double) { Self.push(&prices, (ts, price), limit: Self.points) }
    mutating func add(equity value: Double, at ts: Double) { Self.push(&equity, (ts, value), limit: Self.points) }
    mutating func add(marker side: String, price: Double, at ts: Double) {
        Self.push(&fills, (ts, price, side), limit: Self.markers)
    }

    private static func push<T>(_ list: inout [T], _ item: T, limit: Int) {
        list.append(item)
        if list.count > limit + limit / 4 { list.removeFirst(list.count - limit) }
    }

    public var json: JSON {
        [
            "prices": .array(prices.map { [JSON($0.ts), JSON($0.value)] }),
            "equity": .array(equity.map { [JSON($0.ts), JSON($0.value)] }),
            "fills": .array(fills.map { ["ts": JSON($0.ts), "price": JSON($0.price), "side": .string($0.side)] }),
        ]
    }
}
