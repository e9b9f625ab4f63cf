import CShim
import Glibc

/// Wakes an `EventLoop` from another thread (an eventfd): the loop runs `handler` on its own
/// thread, once per batch of wake-ups.
public final class LoopWaker: Sendable {
    private let fd: Int32

    public init(loop: EventLoop, handler: @escaping () -> Void) throws {
        fd = sb_eventfd()
        if fd < 0 { throw SystemError("eventfd") }
        let fd = self.fd
        try loop.register(fd, .readable) { _ in
            var value: UInt64 = 0
            _ = read(fd, &value, 8)
            handler()
        }
    }

    deinit { close(fd) }

    public func wake() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }
}
