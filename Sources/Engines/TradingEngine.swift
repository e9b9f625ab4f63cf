import ExchangeConnector
import ExchangeModel
import JSON
import SuperBotConfig
import SuperBotLog
import Synchronization
import SystemKit
import Trading
import TradingSettings

public enum EngineStatus: String, Sendable { case stopped, starting, running, paused, crashed, stopping }

/// Where engines announce prices, orders, trades and status changes (the bus, in the module).
public protocol EventPublisher: Sendable {
    func publish(_ topic: String, _ data: JSON)
}

/// A fault an operator or a test injects into one engine (`engines.inject_fault`).
public enum EngineFault: String, Sendable { case crash, hang, error }

/// One symbol's engine: runs `EngineCore` cycles on its own task, so a stuck or crashed engine
/// never holds up another. Everything the rest of the process reads is in a locked `Info`.
public final class TradingEngine: Sendable {
    public struct Info: Sendable {
        public var status: EngineStatus = .stopped
        public var reason: String?
        public var startedAt: Double?
        /// Wall time by which the next heartbeat is due (the loop's next wake-up).
        public var heartbeatDue = 0.0
        public var lastHeartbeat = 0.0
        public var errorCount = 0
        public var consecutiveErrors = 0
        public var recentErrors: [Double] = []
        public var lastError: String?
        public var restarts = 0
        public var cycles = 0
        public var ledger: Ledger
        /// Set while `ledger` is not the live engine's: why the figures may be out of date.
        public var stale: String?
        /// The last comparison of the books with the exchange account.
        public var reconciliation: Reconciliation?
        public var signal: String = "hold"
        public var pendingOrder: String?
        public var latencies: [Double] = []
        /// Seconds spent in all cycles so far (a Prometheus summary's `_sum`).
        public var cycleSeconds = 0.0
        public var recentOrders: [JSON] = []
        public var generation = 0
    }

    public let settings: TradingConfig.Engine
    let exchange: any ExchangeAPI
    let dataDirectory: String
    let events: any EventPublisher
    public let logger: Logger
    private let state: Mutex<Info>
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let fault = Mutex<EngineFault?>(nil)
    /// A reconciliation asked for, and whether it adopts the exchange's view.
    private let reconcileRequested = Mutex<Bool?>(nil)

    public init(
        settings: TradingConfig.Engine, exchange: any ExchangeAPI, dataDirectory: String, logDirectory: String,
        events: any EventPublisher, console: Bool = false
    ) {
        self.settings = settings
        self.exchange = exchange
        self.dataDirectory = dataDirectory
        self.events = events
        var sinks: [any LogSink] = [
            JSONLinesFileSink(directory: logDirectory, prefix: EngineManager.logPrefix(settings.symbol))
        ]
        if console { sinks.append(ConsoleSink()) }
        logger = Logger(label: "engine.\(settings.symbol)", sinks: sinks)
        // Until the engine recovers, show the last state on disk, marked stale, never a fresh ledger.
        var initial = Info(
            ledger: Ledger(initialCash: settings.initialCash), stale: "not yet recovered from the journal")
        if let saved = EngineCore.snapshot(at: "\(dataDirectory)/state/\(settings.symbol).json") {
            initial.ledger = saved.ledger
            initial.stale = "last snapshot (\(Clock.iso8601(saved.ts))); not yet recovered from the journal"
        }
        state = Mutex(initial)
    }

    public var symbol: String { settings.symbol }
    public var info: Info { state.withLock { $0 } }

    public func inject(_ fault: EngineFault) { self.fault.withLock { $0 = fault } }

    /// Has the next cycle compare the books with the exchange account now (and, with `adopt`,
    /// book what the exchange shows).
    public func requestReconcile(adopt: Bool = false) { reconcileRequested.withLock { $0 = adopt || ($0 ?? false) } }

    /// Starts the cycle task unless one is running.
    public func start() {
        task.withLock { current in
            guard current == nil else { return }
            let generation = state.withLock { s -> Int in
                s.generation += 1
                s.status = .starting
                s.reason = nil
                s.startedAt = Clock.wall()
                s.heartbeatDue = Clock.wall() + 30
                s.consecutiveErrors = 0
                s.recentErrors = []
                return s.generation
            }
            publishStatus()
            current = Task { [self] in await run(generation) }
        }
    }

    /// Cancels the cycle task and waits for it to end (an order in flight completes or times out first).
    /// `generation`: stop only that run (a health monitor's late stop must not end the run a
    /// restart has begun meanwhile).
    public func stop(status: EngineStatus = .stopped, reason: String? = nil, generation: Int? = nil) async {
        let running = task.withLock { t -> Task<Void, Never>?? in
            if let generation, state.withLock({ $0.generation }) != generation { return .none }
            defer { t = nil }
            return t
        }
        guard let running else { return }
        if let running {
            setStatus(.stopping, reason: reason)
            running.cancel()
            await running.value
        }
        setStatus(status, reason: reason)
    }

    /// Marks a restart (the health monitor or an operator) and starts again.
    public func restart(reason: String) async {
        logger.warning("restarting", ["reason": .string(reason)])
        await stop(status: .stopped, reason: reason)
        state.withLock { $0.restarts += 1 }
        start()
    }

    private func setStatus(_ status: EngineStatus, reason: String?) {
        let changed = state.withLock { s -> Bool in
            defer {
                s.status = status
                s.reason = reason
            }
            return s.status != status || s.reason != reason
        }
        if changed { publishStatus() }
    }

    func publishStatus() {
        let i = info
        var data: [String: JSON] = ["symbol": .string(symbol), "status": .string(i.status.rawValue)]
        if let r = i.reason { data["reason"] = .string(r) }
        events.publish("engine.\(symbol).status", .object(data))
        logger.info("status \(i.status.rawValue)", i.reason.map { ["reason": .string($0)] } ?? [:])
    }

    // MARK: The loop

    private func run(_ generation: Int) async {
        let core = EngineCore(settings: settings, exchange: exchange, dataDirectory: dataDirectory)
        var recovered = false
        while !recovered && !Task.isCancelled {
            do {
                try await core.recover(now: Clock.wall())
                recovered = true
            } catch let error as ExchangeError {
                // The exchange is unreachable: keep trying, the state on disk is intact.
                if !(await noteError(error, core: core)) { return }
            } catch {
                return crashed("recovery failed: \(error)")
            }
        }
        do { try await core.warmUp() } catch {
            logger.warning("warm-up failed; the strategy starts cold", ["error": .string("\(error)")])
        }
        update(core) { _ in }
        logger.info(
            "engine started",
            [
                "position": JSON(core.ledger.position), "cash": JSON(core.ledger.cash),
                "trades": JSON(core.ledger.tradeCount),
                "strategy": .string(core.strategy.name),
            ])
        setStatus(core.pausedReason == nil ? .running : .paused, reason: core.pausedReason)
        // The start-up grace ends here: from now on the first cycle is due at once, so an engine
        // that hangs before it ever beats is caught within the heartbeat timeout.
        beat(0)

        while !Task.isCancelled {
            let started = Clock.monotonic()
            do {
                switch fault.withLock({ f -> EngineFault? in
                    defer { f = nil }
                    return f
                }) {
                case .crash?: throw EngineCrash("injected crash")
                case .hang?:
                    logger.warning("injected hang: this engine stops beating")
                    try await Task.sleep(for: .seconds(1_000_000))
                case .error?: throw ExchangeError.server(status: 500, message: "injected error")
                case nil: break
                }
                if let adopt = reconcileRequested.withLock({ r in
                    defer { r = nil }
                    return r
                }) {
                    core.reconcileRequested = true
                    core.adoptRequested = adopt
                }
                let report = try await core.cycle(now: Clock.wall())
                let elapsed = Clock.monotonic() - started
                announce(report, core: core, elapsed: elapsed)
                let sleep = max(0, settings.cycleInterval - elapsed)
                beat(sleep)
                try await Task.sleep(for: .seconds(sleep))
            } catch is CancellationError {
                break
            } catch let error as ExchangeError {
                if !(await noteError(error, core: core)) { return }
            } catch {
                // The journal or snapshot could not be written (or an injected crash): stop here
                // rather than trade on state that is not on disk.
                return crashed("\(error)")
            }
        }
        // A clean stop leaves a snapshot of the latest state (prices, day), traded or not.
        do { try core.saveSnapshot(now: Clock.wall()) } catch {
            logger.error("cannot write the snapshot", ["error": .string("\(error)")])
        }
        update(core) { _ in }
    }

    /// Counts an error and backs off; false when the errors add up to a spike (the engine crashed).
    private func noteError(_ error: any Error, core: EngineCore) async -> Bool {
        let now = Clock.wall()
        let (consecutive, spike) = state.withLock { s -> (Int, Bool) in
            s.errorCount += 1
            s.consecutiveErrors += 1
            s.lastError = "\(error)"
            s.recentErrors.append(now)
            s.recentErrors.removeAll { now - $0 > 60 }
            return (s.consecutiveErrors, s.recentErrors.count >= settings.recovery.errorSpike)
        }
        update(core) { _ in }
        logger.error("cycle failed", ["error": .string("\(error)"), "consecutive": JSON(consecutive)])
        if spike {
            crashed("error spike: \(settings.recovery.errorSpike) errors within a minute; last: \(error)")
            return false
        }
        let delay = min(settings.recovery.maxBackoff, settings.cycleInterval * Double(1 << min(consecutive, 20)))
        beat(delay)
        do { try await Task.sleep(for: .seconds(delay)) } catch { return false }
        return !Task.isCancelled
    }

    private func crashed(_ reason: String) {
        logger.error("engine crashed", ["reason": .string(reason)])
        task.withLock { $0 = nil }
        setStatus(.crashed, reason: reason)
    }

    private func beat(_ sleep: Double) {
        let now = Clock.wall()
        state.withLock {
            $0.lastHeartbeat = now
            $0.heartbeatDue = now + sleep
        }
    }

    private func update(_ core: EngineCore, _ body: (inout Info) -> Void) {
        state.withLock { s in
            if core.isRecovered {
                s.ledger = core.ledger
                s.stale = nil
            }
            s.signal = core.lastSignal.rawValue
            s.pendingOrder = core.pending?.clientOrderId
            body(&s)
        }
    }

    private func announce(_ report: CycleReport, core: EngineCore, elapsed: Double) {
        let wasPaused = info.status == .paused
        update(core) { s in
            s.cycles += 1
            s.consecutiveErrors = 0
            s.latencies.append(elapsed)
            s.cycleSeconds += elapsed
            if s.latencies.count > 512 { s.latencies.removeFirst(s.latencies.count - 512) }
            if let reconciliation = report.reconciliation { s.reconciliation = reconciliation }
            if let order = report.order {
                s.recentOrders.append(orderJSON(order))
                if s.recentOrders.count > 50 { s.recentOrders.removeFirst() }
            }
        }
        events.publish(
            "price.\(symbol).update",
            ["symbol": .string(symbol), "price": JSON(report.price), "signal": .string(report.signal.rawValue)])
        if let r = report.reconciliation, r.outcome == .differs {
            let data: JSON = [
                "symbol": .string(symbol), "asset": .string(r.asset), "books": JSON(r.books),
                "exchange": JSON(r.exchange ?? 0), "difference": JSON(r.difference ?? 0),
                "action": .string(r.adopted.isEmpty ? settings.reconcile.onMismatch : "adopt_exchange"),
                "trade_differences": .array(r.tradeDifferences.prefix(20).map { .string($0) }),
                "adopted": .array(r.adopted.prefix(20).map { .string($0) }),
            ]
            logger.error("books differ from the exchange account", data.objectValue ?? [:])
            events.publish("alert.reconcile", data)
        }
        if let paused = report.paused, !wasPaused {
            setStatus(.paused, reason: paused)
        } else if report.paused == nil && wasPaused {
            setStatus(.running, reason: nil)
        }
        if let decision = report.decision, report.signal != .hold {
            logger.info(
                "signal \(report.signal.rawValue)", ["price": JSON(report.price), "decision": .string(decision)])
        }
        guard let order = report.order else { return }
        events.publish("order.\(symbol).\(order.status.lowercased())", orderJSON(order))
        for fill in report.newFills {
            let trade: JSON = [
                "symbol": .string(symbol), "side": .string(order.side.rawValue), "price": JSON(fill.price),
                "qty": JSON(fill.qty),
                "fee": JSON(fill.commission), "trade_id": JSON(fill.tradeId),
                "client_order_id": .string(order.clientOrderId),
                "position": JSON(core.ledger.position), "realized_pnl": JSON(core.ledger.realizedPnL),
            ]
            events.publish("trade.executed", trade)
            logger.info("fill", trade.objectValue ?? [:])
        }
    }

    private func orderJSON(_ order: OrderResult) -> JSON {
        [
            "symbol": .string(order.symbol), "order_id": JSON(order.orderId),
            "client_order_id": .string(order.clientOrderId),
            "side": .string(order.side.rawValue), "status": .string(order.status),
            "executed_qty": JSON(order.executedQty),
            "fills": JSON(order.fills.count), "ts": JSON(Clock.wall()),
        ]
    }
}

struct EngineCrash: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
