import Dispatch
import ExchangeModel
import Glibc
import HTTP
import Synchronization
import SystemKit

/// Keep-alive HTTP/1.1 connections to one host, driven by one event-loop thread: callers `await`
/// a response while no thread of theirs blocks. Between `min` and `max` connections are kept;
/// idle ones close after `idleTimeout` (down to `min`), and an idle connection the server closed
/// is noticed at once (it is watched) and never handed out.
public final class HTTPConnectionPool: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: UInt16
        public var minConnections = 2
        public var maxConnections = 10
        public var connectTimeout = 5.0
        public var requestTimeout = 5.0
        public var idleTimeout = 300.0

        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }
    }

    public struct Stats: Sendable, Equatable {
        public var opened = 0
        public var reused = 0
        public var closed = 0
        public var failedConnects = 0
        public var open = 0
        public var idle = 0
        public var queued = 0
        public var requests = 0
    }

    struct Job {
        var request: [UInt8]
        var deadline: Double
        var continuation: CheckedContinuation<HTTPResponse, any Error>
    }

    /// What callers and the loop thread share.
    final class Shared: Sendable {
        let inbox = Mutex<(jobs: [Job], stopping: Bool)>(([], false))
        let stats = Mutex(Stats())
    }

    public let settings: Settings
    private let shared = Shared()
    private let waker: LoopWaker

    public init(_ settings: Settings) throws {
        self.settings = settings
        let loop = try EventLoop()
        let core = PoolCore(settings: settings, loop: loop)
        let shared = self.shared
        core.onStats = { stats in shared.stats.withLock { $0 = stats } }
        core.isStopping = { shared.inbox.withLock { $0.stopping } }
        waker = try LoopWaker(loop: loop) {
            let (jobs, stopping) = shared.inbox.withLock { state -> ([Job], Bool) in
                defer { state.jobs = [] }
                return (state.jobs, state.stopping)
            }
            core.enqueue(jobs)
            if stopping {
                core.shutdown()
                loop.stop()
            }
        }
        let owned = Unchecked((core, loop))
        DispatchQueue(label: "superbot.http-pool").async {
            owned.value.0.start()
            owned.value.1.run()
        }
    }

    deinit { shutdown() }

    public var stats: Stats { shared.stats.withLock { $0 } }

    /// Sends one request (with `Host` added) and returns the whole response.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let bytes = request.serialized(host: "\(settings.host):\(settings.port)")
        return try await withCheckedThrowingContinuation { continuation in
            let accepted = shared.inbox.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.jobs.append(
                    Job(
                        request: bytes, deadline: Clock.monotonic() + settings.requestTimeout,
                        continuation: continuation))
                return true
            }
            guard accepted else {
                return continuation.resume(
                    throwing: ExchangeError.transport("the connection pool is shut down", requestSent: false))
            }
            waker.wake()
        }
    }

    public func shutdown() {
        let first = shared.inbox.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first { waker.wake() }
    }
}
