import CShim
import Glibc

/// A timer on the wall clock (a CLOCK_REALTIME timerfd with an absolute deadline), for the
/// scheduler: it fires when the clock reads the deadline however the clock got there, and a
/// clock that is set (forward or back) wakes it too, so fire times are recomputed at once
/// instead of drifting by the jump.
public final class WallTimer {
    public enum Wake: Sendable {
        case expired
        /// The wall clock was set; deadlines should be looked at again.
        case clockChanged
    }

    private let fd: Int32
    private let loop: EventLoop

    public init(loop: EventLoop, handler: @escaping (Wake) -> Void) throws {
        fd = sb_wall_timerfd()
        if fd < 0 { throw SystemError("timerfd_create") }
        self.loop = loop
        let fd = self.fd
        try loop.register(fd, .readable) { _ in
            switch sb_wall_timerfd_read(fd) {
            case 1: handler(.expired)
            case 2: handler(.clockChanged)
            default: break
            }
        }
        arm(at: nil)
    }

    deinit {
        loop.unregister(fd)
        close(fd)
    }

    /// Arms for `seconds` since the epoch (wall clock), or disarms with nil; a deadline already
    /// past fires at once. Arming again replaces the previous deadline.
    public func arm(at seconds: Double?) {
        guard let seconds else {
            _ = sb_wall_timerfd_arm(fd, 0, 0)
            return
        }
        let whole = max(seconds, 0.000_001).rounded(.down)
        let nanos = min(999_999_999, Int((max(seconds, 0.000_001) - whole) * 1e9))
        _ = sb_wall_timerfd_arm(fd, Int64(whole), nanos == 0 && whole == 0 ? 1 : nanos)
    }
}
