import Bus
import Dispatch
import Glibc
import JSON
import RPC
import SuperBotLog
import Synchronization
import SystemKit

/// What every module links to: the daemon connection (found through `SUPERBOT_SOCKET`, kept up
/// with backoff across daemon restarts), publish, subscribe as an `AsyncSequence`, methods served
/// to the rest of the system, heartbeats, a JSON Lines logger, and SIGTERM → shutdown hooks.
///
/// Blocking socket reads run on a dedicated thread, never on the cooperative pool.
public final class ModuleRuntime: Sendable {
    public typealias Handler = @Sendable (JSON?) async throws -> JSON

    public let name: String
    public let socketPath: String
    public let logger: Logger

    struct Subscription {
        var patterns: [String]
        var continuation: AsyncStream<BusMessage>.Continuation
    }

    struct State {
        var fd: Int32 = -1
        var nextID = 0
        var pending: [Int: CheckedContinuation<JSON, any Error>] = [:]
        /// Requests the runtime sends on its own (subscribe, register): errors are logged.
        var background: Set<Int> = []
        var subscriptions: [Int: Subscription] = [:]
        var nextSubscription = 0
        var handlers: [String: Handler] = [:]
        var logs: [String: String] = [:]
        var shutdownHooks: [@Sendable () async -> Void] = []
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        var shuttingDown = false
        var shutdownComplete = false
        var started = false
        var connections = 0
        var exitCode: Int32 = 0
    }

    let state = Mutex(State())
    let token: String?

    public init(name: String? = nil, socketPath: String? = nil, logDirectory: String? = nil) {
        let resolved =
            name ?? Environment.get("SUPERBOT_MODULE") ?? FileSystem.baseName(CommandLine.arguments.first ?? "module")
        self.name = resolved
        self.socketPath = socketPath ?? Environment.get("SUPERBOT_SOCKET") ?? ".superbot/superbot.sock"
        token = Environment.get("SUPERBOT_TOKEN")
        var sinks: [any LogSink] = [
            JSONLinesFileSink(
                directory: logDirectory ?? Environment.get("SUPERBOT_LOG_DIR") ?? "logs", prefix: resolved)
        ]
        if Environment.isTerminal(2) { sinks.append(ConsoleSink()) }
        logger = Logger(label: resolved, sinks: sinks)
    }

    public var isConnected: Bool { state.withLock { $0.fd >= 0 } }

    /// How many times a connection to the daemon was established (1 + reconnects).
    public var connectionCount: Int { state.withLock { $0.connections } }

    // MARK: Lifecycle

    /// Runs `body` connected to the daemon until it returns or SIGTERM/SIGINT arrives; then runs the
    /// shutdown hooks (last registered first) and returns the exit code.
    public func run(_ body: @escaping @Sendable (ModuleRuntime) async throws -> Void) async -> Int32 {
        start()
        let work = Task {
            do {
                try await body(self)
            } catch is CancellationError {
            } catch {
                logger.error("module failed", ["error": .string("\(error)")])
                state.withLock { $0.exitCode = 1 }
            }
            beginShutdown(reason: "finished")
        }
        await waitForShutdown()
        work.cancel()
        return state.withLock { $0.exitCode }
    }

    /// Connects in the background and installs the SIGTERM/SIGINT handlers (once).
    public func start() {
        let first = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        for signal in [SIGTERM, SIGINT] {
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { [self] in beginShutdown(reason: Signals.name(signal)) }
            source.resume()
            SignalSources.keep(source)
        }
        DispatchQueue(label: "superbot.module.io").async { [self] in connectionLoop() }
    }

    public func onShutdown(_ hook: @escaping @Sendable () async -> Void) {
        state.withLock { $0.shutdownHooks.append(hook) }
    }

    public func waitForShutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.shutdownComplete { return true }
                s.shutdownWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Starts a graceful shutdown (what SIGTERM does).
    public func beginShutdown(reason: String) {
        let hooks = state.withLock { s -> [@Sendable () async -> Void]? in
            if s.shuttingDown { return nil }
            s.shuttingDown = true
            return s.shutdownHooks
        }
        guard let hooks else { return }
        logger.info("shutting down", ["reason": .string(reason)])
        Task {
            for hook in hooks.reversed() { await hook() }
            let (waiters, fd) = state.withLock { s -> ([CheckedContinuation<Void, Never>], Int32) in
                s.shutdownComplete = true
                defer { s.shutdownWaiters = [] }
                return (s.shutdownWaiters, s.fd)
            }
            if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            for waiter in waiters { waiter.resume() }
        }
    }

    // MARK: Bus

    /// Publishes without waiting (at-most-once); false when the daemon is unreachable right now.
    @discardableResult
    public func publish(_ topic: String, _ data: JSON) -> Bool {
        (try? write(RPCRequest(id: nil, method: "bus.publish", params: ["topic": .string(topic), "data": data]).json))
            != nil
    }

    /// Messages matching any of `patterns`, until the stream is dropped. Subscriptions survive
    /// reconnects; if the consumer falls behind by more than `bufferingNewest`, older ones give way.
    public func subscribe(_ patterns: [String], bufferingNewest limit: Int = 10_000) throws -> AsyncStream<BusMessage> {
        for pattern in patterns { try Topic.validatePattern(pattern) }
        let (stream, continuation) = AsyncStream<BusMessage>.makeStream(bufferingPolicy: .bufferingNewest(limit))
        let id = state.withLock { s -> Int in
            s.nextSubscription += 1
            s.subscriptions[s.nextSubscription] = Subscription(patterns: patterns, continuation: continuation)
            return s.nextSubscription
        }
        continuation.onTermination = { [self] _ in unsubscribe(id) }
        sendInBackground("bus.subscribe", ["patterns": .array(patterns.map { .string($0) })])
        return stream
    }

    public func subscribe(_ patterns: String...) throws -> AsyncStream<BusMessage> { try subscribe(patterns) }

    private func unsubscribe(_ id: Int) {
        let unused = state.withLock { s -> [String] in
            guard let removed = s.subscriptions.removeValue(forKey: id) else { return [] }
            let still = Set(s.subscriptions.values.flatMap(\.patterns))
            return removed.patterns.filter { !still.contains($0) }
        }
        if !unused.isEmpty { sendInBackground("bus.unsubscribe", ["patterns": .array(unused.map { .string($0) })]) }
    }

    /// Publishes `module.<name>.heartbeat` every `seconds` until the task is cancelled.
    @discardableResult
    public func startHeartbeat(every seconds: Double) -> Task<Void, Never> {
        Task { [self] in
            while !Task.isCancelled {
                publish("module.\(name).heartbeat", ["pid": JSON(getpid()), "ts": JSON(Clock.wall())])
                try? await Task.sleep(for: .seconds(seconds))
            }
        }
    }

    // MARK: Methods

    /// Serves `method` for the whole system: the daemon routes requests for it here.
    public func register(_ method: String, _ handler: @escaping Handler) {
        state.withLock { $0.handlers[method] = handler }
        sendInBackground("rpc.register", ["methods": [.string(method)]])
    }

    /// Declares structured log files this module writes, by the parameter that picks one
    /// (`["symbol": "/abs/logs/engine-{symbol}-{date}.jsonl"]`), so `superbot-cli logs --symbol`
    /// finds them through the daemon. Sent again on every reconnect.
    public func declareLogs(_ templates: [String: String]) {
        state.withLock { $0.logs.merge(templates) { $1 } }
        sendInBackground("rpc.register", ["methods": [], "logs": .object(templates.mapValues { .string($0) })])
    }

    /// Calls a method of the daemon or of another module.
    public func call(_ method: String, _ params: JSON? = nil, timeout: Double = 10) async throws -> JSON {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSON, any Error>) in
            let id = state.withLock { s -> Int? in
                guard s.fd >= 0 else { return nil }
                s.nextID += 1
                s.pending[s.nextID] = continuation
                return s.nextID
            }
            guard let id else {
                continuation.resume(throwing: ModuleError("not connected to the daemon at \(socketPath)"))
                return
            }
            do {
                try write(RPCRequest(id: JSON(id), method: method, params: params).json)
            } catch {
                state.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: error)
                return
            }
            Task { [self] in
                try? await Task.sleep(for: .seconds(timeout))
                state.withLock { $0.pending.removeValue(forKey: id) }?
                    .resume(throwing: ModuleError("'\(method)' got no answer within \(timeout) s"))
            }
        }
    }
}

/// Keeps the process's signal sources alive; written once per signal at start-up.
enum SignalSources {
    /// Only retained, never touched after `resume()`, so sharing the reference is safe.
    private final class Retained: @unchecked Sendable {
        let source: any DispatchSourceSignal
        init(_ source: any DispatchSourceSignal) { self.source = source }
    }

    private static let sources = Mutex<[Retained]>([])
    static func keep(_ source: any DispatchSourceSignal) {
        let retained = Retained(source)
        sources.withLock { $0.append(retained) }
    }
}
