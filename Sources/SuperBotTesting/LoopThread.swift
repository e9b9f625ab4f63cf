import Dispatch
import SystemKit

/// An `EventLoop` running on a thread of its own, for tests of loop-driven servers: set up what
/// the loop drives in `start`'s closure (it runs before the loop turns), inspect it with `sync`.
public final class LoopThread<Value: AnyObject>: @unchecked Sendable {
    public let loop: EventLoop
    public let executor: LoopExecutor
    public let value: Value
    private let finished = DispatchSemaphore(value: 0)

    public init(_ setUp: (EventLoop) throws -> Value) throws {
        loop = try EventLoop()
        executor = try LoopExecutor(loop: loop)
        value = try setUp(loop)
        DispatchQueue(label: "superbot.test-loop").async { [self] in
            loop.run()
            finished.signal()
        }
    }

    /// Runs `body` on the loop's thread and waits for its result.
    public func sync<T: Sendable>(_ body: @escaping @Sendable (Value) -> T) -> T {
        let result = ResultBox<T>()
        executor.execute { [self] in
            result.value = body(value)
            result.done.signal()
        }
        result.done.wait()
        return result.value!
    }

    /// Stops the loop after `cleanUp` ran on its thread, and waits for it to end.
    public func stop(_ cleanUp: @escaping @Sendable (Value) -> Void = { _ in }) {
        executor.execute { [self] in
            cleanUp(value)
            loop.stop()
        }
        finished.wait()
    }
}

/// Written once on the loop's thread before `done` is signalled, read after the wait.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}
