import Synchronization

/// Runs closures on an `EventLoop`'s thread when they are submitted from any thread: how async
/// code (a task awaiting the daemon) hands its answer back to loop-confined state.
public final class LoopExecutor: Sendable {
    private final class Jobs: Sendable {
        let pending = Mutex<[@Sendable () -> Void]>([])
    }

    private let jobs = Jobs()
    private let waker: LoopWaker

    public init(loop: EventLoop) throws {
        let jobs = self.jobs
        waker = try LoopWaker(loop: loop) {
            // Drain in batches: a job may submit more, which run on the next wake-up.
            let batch = jobs.pending.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            for job in batch { job() }
        }
    }

    public func execute(_ job: @escaping @Sendable () -> Void) {
        jobs.pending.withLock { $0.append(job) }
        waker.wake()
    }
}

/// A loop-confined object that may be carried across threads but is touched only on its loop's
/// thread (swift-nio's `NIOLoopBound`): `execute` hops there first.
public struct LoopBound<Value: AnyObject>: @unchecked Sendable {
    private let value: Value
    private let executor: LoopExecutor

    public init(_ value: Value, executor: LoopExecutor) {
        self.value = value
        self.executor = executor
    }

    public func execute(_ body: @escaping @Sendable (Value) -> Void) {
        let unchecked = self
        executor.execute { body(unchecked.value) }
    }
}
