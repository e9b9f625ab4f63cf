import JSON
import RPC
import SuperBotModule
import Synchronization
import SystemKit

/// Keeps a `WebState` current: bus events are applied as they arrive (engine status, module
/// events, prices, fills) and forwarded to the dashboards; everything is re-read from the daemon
/// every `interval` seconds, and soon after an event that changes what the pages show. The
/// exchange-facing figures (balance, closed trades) and the daemon's version and pid are re-read
/// at most every 5 s (balance and trades also after a fill).
public final class DaemonPoller: Sendable {
    /// What the dashboards' event feed carries (the bus topics an operator may see).
    public static let patterns = [
        "module.*", "engine.*.status", "trade.executed", "order.*.*", "alert.>", "system.>", "config.>",
        "price.*.update", "scheduler.>", "backtest.completed",
    ]

    struct Schedule {
        var lastSlow = 0.0
        var slowWanted = true
    }

    let runtime: ModuleRuntime
    let state: WebState
    let interval: Double
    private let forward: @Sendable (BusMessage) -> Void
    private let kicks: AsyncStream<Void>.Continuation
    private let kickStream: AsyncStream<Void>
    private let schedule = Mutex(Schedule())

    public init(
        runtime: ModuleRuntime, state: WebState, interval: Double, forward: @escaping @Sendable (BusMessage) -> Void
    ) {
        self.runtime = runtime
        self.state = state
        self.interval = interval
        self.forward = forward
        (kickStream, kicks) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a refresh soon (bursts of events coalesce into one).
    public func kick(slow: Bool = false) {
        if slow { schedule.withLock { $0.slowWanted = true } }
        kicks.yield()
    }

    public func start() {
        Task { [self] in
            do {
                for await message in try runtime.subscribe(Self.patterns) { apply(message) }
            } catch {
                runtime.logger.error("cannot subscribe to the bus", ["error": .string("\(error)")])
            }
        }
        Task { [self] in
            while !Task.isCancelled {
                kick()
                try? await Task.sleep(for: .seconds(interval))
            }
        }
        Task { [self] in
            for await _ in kickStream {
                await refresh()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func apply(_ message: BusMessage) {
        let topic = message.topic
        let symbol = message.data["symbol"]?.stringValue
        if topic.hasPrefix("engine."), let symbol, let status = message.data["status"]?.stringValue {
            state.update { $0.applyEngineStatus(symbol: symbol, status: status, reason: message.data["reason"]) }
            kick()
        } else if topic.hasPrefix("module.") {
            state.update { $0.applyModuleEvent(topic, data: message.data) }
            kick()
        } else if topic.hasPrefix("price."), let symbol, let price = message.data["price"]?.doubleValue {
            state.updateCharts { $0.recordPrice(symbol: symbol, ts: message.timestamp, price: price) }
        } else if topic == "trade.executed", let symbol, let price = message.data["price"]?.doubleValue {
            let side = message.data["side"]?.stringValue ?? "?"
            state.updateCharts { $0.recordTrade(symbol: symbol, ts: message.timestamp, price: price, side: side) }
            kick(slow: true)
        }
        forward(message)
    }

    /// One round of daemon calls, side by side.
    func refresh() async {
        guard runtime.isConnected else {
            state.update { $0.daemonError = "not connected to \(runtime.socketPath)" }
            return
        }
        let now = Clock.wall()
        let slow = schedule.withLock { s -> Bool in
            guard s.slowWanted || now - s.lastSlow >= max(5, interval) else { return false }
            s.slowWanted = false
            s.lastSlow = now
            return true
        }
        async let modules = ask("module.list")
        async let health = ask("monitoring.health")
        async let metrics = ask("monitoring.metrics")
        async let resources = ask("monitoring.resources")
        async let daemon = slow ? ask("daemon.status") : nil
        async let engines = ask("engines.status")
        async let positions = ask("trading.positions")
        async let orders = ask("trading.orders")
        async let balance = slow ? ask("trading.balance") : nil
        async let trades = slow ? ask("trading.trades", ["limit": 0]) : nil
        let results = await (modules, health, metrics, resources, daemon, engines, positions, orders, balance, trades)
        state.update { s in
            switch results.0 {
            case .success(let list):
                s.modules = list["modules"]?.arrayValue
                s.daemonError = nil
                s.updated = now
            case .failure(let error):
                s.daemonError = "\(error)"
                return
            }
            s.health = results.1.value ?? s.health
            s.metrics = results.2.value ?? s.metrics
            s.resources = results.3.value ?? s.resources
            if let daemon = results.4?.value { s.daemon = daemon }
            switch results.5 {
            case .success(let answer):
                s.engines = answer["engines"]?.arrayValue
                s.tradingError = nil
                s.tradingUpdated = now
                s.recordEquity(at: now)
            case .failure(let error):
                s.engines = nil
                s.tradingError = "\(error)"
            }
            s.positions = results.6.value?["positions"]?.arrayValue ?? s.positions
            s.orders = results.7.value ?? s.orders
            if let balance = results.8?.value { s.balance = balance }
            if let trades = results.9?.value { s.trades = trades["trades"]?.arrayValue }
        }
        // The answers many clients poll, rendered here rather than on the HTTP loop.
        state.warm("/engines/status") { s in
            let (status, body) = s.enginesStatus()
            return (status, body.serializedBytes())
        }
        if slow, results.4?.value == nil || results.8?.value == nil || results.9?.value == nil {
            // Not answered yet (the trading module still starting): ask again next round.
            schedule.withLock { $0.slowWanted = true }
        }
    }

    private func ask(_ method: String, _ params: JSON? = nil) async -> Result<JSON, any Error> {
        do { return .success(try await runtime.call(method, params, timeout: 5)) } catch { return .failure(error) }
    }
}

extension Result {
    var value: Success? { try? get() }
}
