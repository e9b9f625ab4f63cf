import ExchangeConnector
import ExchangeModel
import Glibc
import JSON
import SuperBotConfig
import SuperBotLog
import SystemKit
import Trading
import TradingSettings

/// Owns one `TradingEngine` per configured symbol: starts, stops and restarts them, and runs the
/// health monitor (crashed → recover; heartbeat overdue → restart; error spike → the engine
/// crashes itself) under each engine's `RecoveryPolicy`. Keeps `data/engine_registry.json`.
public actor EngineManager {
    public let config: TradingConfig
    public let logger: Logger
    private var engines: [String: TradingEngine] = [:]
    private var policies: [String: RecoveryPolicy] = [:]
    /// Engines an operator stopped: the monitor leaves them alone.
    private var held: Set<String> = []
    /// Restarts already scheduled (symbol → due time), so one failure is handled once.
    private var scheduled: [String: Double] = [:]
    private var gaveUp: Set<String> = []
    private var monitor: Task<Void, Never>?
    private var lastRegistry: [String: String] = [:]
    private let registryPath: String

    /// Each engine's structured log: `<dir>/engine-<SYMBOL>-<YYYYMMDD>.jsonl`.
    public static func logPrefix(_ symbol: String) -> String { "engine-\(symbol)" }

    /// The same files as a template the daemon follows (`ModuleRuntime.declareLogs`).
    public static func logTemplate(directory: String) -> String {
        FileSystem.absolute(directory) + "/\(logPrefix("{symbol}"))-{date}.jsonl"
    }

    public init(
        config: TradingConfig, exchange: any ExchangeAPI, logDirectory: String, events: any EventPublisher,
        console: Bool = false
    ) {
        self.config = config
        var sinks: [any LogSink] = [JSONLinesFileSink(directory: logDirectory, prefix: "orchestrator")]
        if console { sinks.append(ConsoleSink()) }
        logger = Logger(label: "orchestrator", sinks: sinks)
        registryPath = "\(config.dataDirectory)/engine_registry.json"
        for settings in config.engines {
            engines[settings.symbol] = TradingEngine(
                settings: settings, exchange: exchange, dataDirectory: config.dataDirectory,
                logDirectory: logDirectory, events: events, console: false)
            policies[settings.symbol] = RecoveryPolicy(settings.recovery)
        }
    }

    public var symbols: [String] { config.symbols }
    public func engine(_ symbol: String) -> TradingEngine? { engines[symbol] }

    /// Starts every enabled engine and the health monitor (checks every `interval` seconds).
    public func startAll(monitorInterval interval: Double = 0.2) {
        for settings in config.engines where settings.enabled { engines[settings.symbol]!.start() }
        logger.info("engines started", ["count": JSON(config.engines.filter(\.enabled).count)])
        monitor = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                await self?.checkHealth()
            }
        }
    }

    public func stopAll() async {
        monitor?.cancel()
        monitor = nil
        await withTaskGroup(of: Void.self) { group in
            for engine in engines.values { group.addTask { await engine.stop() } }
        }
        writeRegistry(force: true)
        logger.info("engines stopped")
    }

    // MARK: Operator control

    public enum ControlError: Error, CustomStringConvertible {
        case unknownSymbol(String, [String])
        public var description: String {
            switch self {
            case .unknownSymbol(let s, let known):
                "unknown symbol '\(s)'"
                    + (suggestion(for: s, in: known).map { "; did you mean '\($0)'?" }
                        ?? "; configured: \(known.joined(separator: ", "))")
            }
        }
    }

    private func named(_ symbol: String) throws -> TradingEngine {
        guard let engine = engines[symbol] else { throw ControlError.unknownSymbol(symbol, config.symbols) }
        return engine
    }

    public func start(_ symbol: String) throws {
        let engine = try named(symbol)
        held.remove(symbol)
        gaveUp.remove(symbol)
        policies[symbol]?.reset()
        engine.start()
        logger.info("engine started by operator", ["symbol": .string(symbol)])
    }

    public func stop(_ symbol: String) async throws {
        let engine = try named(symbol)
        held.insert(symbol)
        scheduled.removeValue(forKey: symbol)
        await engine.stop(reason: "stopped by operator")
        logger.info("engine stopped by operator", ["symbol": .string(symbol)])
        writeRegistry(force: true)
    }

    public func restart(_ symbol: String) async throws {
        let engine = try named(symbol)
        held.remove(symbol)
        gaveUp.remove(symbol)
        await engine.restart(reason: "restarted by operator")
    }

    public func inject(_ fault: EngineFault, into symbol: String) throws {
        try named(symbol).inject(fault)
        logger.warning("fault injected", ["symbol": .string(symbol), "fault": .string(fault.rawValue)])
    }

    // MARK: Health

    func checkHealth() async {
        let now = Clock.wall()
        for symbol in config.symbols {
            guard let engine = engines[symbol], !held.contains(symbol), !gaveUp.contains(symbol) else { continue }
            if let due = scheduled[symbol] {
                if now >= due {
                    scheduled.removeValue(forKey: symbol)
                    await engine.restart(reason: "recovery")
                    logger.info("engine recovered", ["symbol": .string(symbol)])
                }
                continue
            }
            let info = engine.info
            var failure: String?
            switch info.status {
            case .crashed: failure = info.reason ?? "crashed"
            case .running, .paused:
                let overdue = now - info.heartbeatDue
                if overdue > engine.settings.heartbeatTimeout {
                    failure = "heartbeat overdue by \(Int(overdue)) s (timeout \(engine.settings.heartbeatTimeout) s)"
                }
            default: break
            }
            guard let failure else { continue }
            switch policies[symbol]!.onFailure(now: now) {
            case .restart(let delay):
                logger.warning(
                    "engine unhealthy; restarting",
                    ["symbol": .string(symbol), "reason": .string(failure), "delay": JSON(delay)])
                if info.status != .crashed {
                    // A hung engine is stopped now; the restart follows after the backoff.
                    let generation = info.generation
                    Task { await engine.stop(status: .crashed, reason: failure, generation: generation) }
                }
                scheduled[symbol] = now + delay
            case .giveUp(let why):
                gaveUp.insert(symbol)
                logger.error("engine left crashed", ["symbol": .string(symbol), "reason": .string(why)])
                Task { await engine.stop(status: .crashed, reason: "\(failure); \(why)") }
            }
        }
        writeRegistry(force: false)
    }

    // MARK: Status

    public func statusJSON(_ symbol: String?) throws -> JSON {
        if let symbol { return status(of: try named(symbol)) }
        return [
            "engines": .array(config.symbols.compactMap { engines[$0].map(status(of:)) }), "count": JSON(engines.count),
        ]
    }

    private func status(of engine: TradingEngine) -> JSON {
        let i = engine.info
        let now = Clock.wall()
        let sorted = i.latencies.sorted()
        func percentile(_ p: Double) -> JSON {
            sorted.isEmpty
                ? .null : JSON((sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1e5).rounded() / 100)
        }
        let healthy =
            (i.status == .running || i.status == .paused) && now - i.heartbeatDue <= engine.settings.heartbeatTimeout
        return [
            "symbol": .string(engine.symbol), "status": .string(i.status.rawValue), "reason": JSON(i.reason),
            "healthy": .bool(healthy),
            "last_heartbeat": i.lastHeartbeat > 0 ? .string(Clock.iso8601(i.lastHeartbeat)) : .null,
            "heartbeat_age": i.lastHeartbeat > 0 ? JSON(((now - i.lastHeartbeat) * 100).rounded() / 100) : .null,
            "uptime": i.startedAt.map { JSON(((now - $0) * 10).rounded() / 10) } ?? .null,
            "error_count": JSON(i.errorCount), "last_error": JSON(i.lastError), "restart_count": JSON(i.restarts),
            "restarts_last_hour": JSON(policies[engine.symbol]?.recentRestarts(now: now) ?? 0),
            "cycles": JSON(i.cycles), "cycle_seconds_total": JSON((i.cycleSeconds * 1e6).rounded() / 1e6),
            "cycle_ms_p50": percentile(0.5), "cycle_ms_p99": percentile(0.99),
            "signal": .string(i.signal), "pending_order": JSON(i.pendingOrder),
            "position": JSON(i.ledger.position), "average_price": JSON(i.ledger.averagePrice),
            "last_price": JSON(i.ledger.lastPrice),
            "cash": JSON(i.ledger.cash), "equity": JSON(i.ledger.equity), "realized_pnl": JSON(i.ledger.realizedPnL),
            "unrealized_pnl": JSON(i.ledger.unrealizedPnL), "daily_pnl": JSON(i.ledger.dailyPnL),
            "fees": JSON(i.ledger.fees),
            "trade_count": JSON(i.ledger.tradeCount), "stale": JSON(i.stale),
        ]
    }

    /// Asks engines (one, or all) to compare their books with the account on their next cycle
    /// (`adopt`: and book the exchange's view once), and returns each one's result once it is
    /// newer than the request (or the last one, marked old).
    public func reconcile(_ symbol: String?, adopt: Bool = false, timeout: Double = 5) async throws -> JSON {
        let list = try symbol.map { [try named($0)] } ?? config.symbols.compactMap { engines[$0] }
        let asked = Clock.wall()
        for engine in list { engine.requestReconcile(adopt: adopt) }
        let deadline = Clock.monotonic() + timeout
        while Clock.monotonic() < deadline, list.contains(where: { ($0.info.reconciliation?.ts ?? 0) < asked }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        return .array(
            list.map { engine in
                let r = engine.info.reconciliation
                return [
                    "symbol": .string(engine.symbol), "asset": .string(engine.settings.baseAsset),
                    // Both figures as of the check: the position may have moved since.
                    "books": JSON(r?.books ?? engine.info.ledger.position),
                    "exchange": r?.exchange.map { JSON($0) } ?? .null,
                    "difference": r?.difference.map { JSON($0) } ?? .null,
                    "outcome": .string(r?.outcome.rawValue ?? "not checked"),
                    "trades_compared": JSON(r?.tradesCompared ?? 0),
                    "trade_differences": .array((r?.tradeDifferences ?? []).map { .string($0) }),
                    "adopted": .array((r?.adopted ?? []).map { .string($0) }),
                    "fresh": .bool((r?.ts ?? 0) >= asked), "status": .string(engine.info.status.rawValue),
                ]
            })
    }

    public func positions() -> JSON {
        .array(
            config.symbols.compactMap { engines[$0] }.map { e in
                let l = e.info.ledger
                return [
                    "symbol": .string(e.symbol), "position": JSON(l.position), "average_price": JSON(l.averagePrice),
                    "last_price": JSON(l.lastPrice),
                    "notional": JSON(l.positionNotional), "unrealized_pnl": JSON(l.unrealizedPnL),
                    "realized_pnl": JSON(l.realizedPnL),
                    "equity": JSON(l.equity), "trade_count": JSON(l.tradeCount), "stale": JSON(e.info.stale),
                ]
            })
    }

    /// Closed round trips from the journals on disk (one symbol or all), newest first.
    public func closedTrades(_ symbol: String?) throws -> [ClosedTrade] {
        let list = try symbol.map { [try named($0)] } ?? config.symbols.compactMap { engines[$0] }
        return list.flatMap { e in
            ClosedTrade.pair(
                TradeJournal.snapshot(path: "\(config.dataDirectory)/trades/\(e.symbol).jsonl"), symbol: e.symbol,
                baseAsset: e.settings.baseAsset)
        }.sorted { ($0.closeTime, $0.symbol) > ($1.closeTime, $1.symbol) }
    }

    public func orders(_ symbol: String?) throws -> JSON {
        let list = try symbol.map { [try named($0)] } ?? config.symbols.compactMap { engines[$0] }
        let recent = list.flatMap { $0.info.recentOrders }.sorted {
            ($0["ts"]?.doubleValue ?? 0) > ($1["ts"]?.doubleValue ?? 0)
        }
        let pending = list.compactMap { e in
            e.info.pendingOrder.map { JSON.object(["symbol": .string(e.symbol), "client_order_id": .string($0)]) }
        }
        return ["recent": .array(Array(recent.prefix(100))), "pending": .array(pending)]
    }

    public func balance() -> JSON {
        let ledgers = config.symbols.compactMap { engines[$0]?.info.ledger }
        func sum(_ f: (Ledger) -> Double) -> JSON { JSON((ledgers.reduce(0) { $0 + f($1) } * 100).rounded() / 100) }
        return [
            "initial_cash": sum(\.initialCash), "cash": sum(\.cash), "positions_value": sum(\.positionNotional),
            "equity": sum(\.equity),
            "realized_pnl": sum(\.realizedPnL), "unrealized_pnl": sum(\.unrealizedPnL), "fees": sum(\.fees),
            "daily_pnl": sum(\.dailyPnL),
            "trade_count": JSON(ledgers.reduce(0) { $0 + $1.tradeCount }), "engines": JSON(ledgers.count),
        ]
    }

    /// Rewrites the registry when any engine's status changed (or when forced).
    private func writeRegistry(force: Bool) {
        var statuses: [String: String] = [:]
        var entries: [String: JSON] = [:]
        for symbol in config.symbols {
            guard let i = engines[symbol]?.info else { continue }
            statuses[symbol] = i.status.rawValue + "|\(i.restarts)"
            entries[symbol] = [
                "status": .string(i.status.rawValue), "reason": JSON(i.reason),
                "started_at": i.startedAt.map { .string(Clock.iso8601($0)) } ?? .null,
                "restart_count": JSON(i.restarts), "error_count": JSON(i.errorCount),
                "last_heartbeat": i.lastHeartbeat > 0 ? .string(Clock.iso8601(i.lastHeartbeat)) : .null,
                "state_file": .string("state/\(symbol).json"), "journal": .string("trades/\(symbol).jsonl"),
            ]
        }
        guard force || statuses != lastRegistry else { return }
        lastRegistry = statuses
        let json: JSON = [
            "updated": .string(Clock.iso8601(Clock.wall())), "pid": JSON(getpid()), "engines": .object(entries),
        ]
        do {
            try FileSystem.makeDirectories(config.dataDirectory)
            try FileSystem.writeAtomically(registryPath, json.serializedBytes() + [0x0A])
        } catch {
            logger.error(
                "cannot write the engine registry", ["path": .string(registryPath), "error": .string("\(error)")])
        }
    }
}
