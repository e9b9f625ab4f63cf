import CShim
import Glibc

/// A single-threaded epoll reactor with timers. Everything registered on it runs on the thread that
/// calls `run()`, so the state it drives needs no locks (the way runit and s6 stay small and fast).
public final class EventLoop {
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: SB_EPOLLIN)
        public static let writable = Events(rawValue: SB_EPOLLOUT)
        public static let error = Events(rawValue: SB_EPOLLERR)
        public static let hangup = Events(rawValue: SB_EPOLLHUP | SB_EPOLLRDHUP)
    }

    public struct TimerID: Hashable, Sendable { let value: UInt64 }

    private let epfd: Int32
    /// Each descriptor's handler and what it is registered for: `modify` to the same events makes
    /// no syscall (a connection asks after every flush, and on the bus that is every subscriber
    /// every turn).
    private var registrations: [Int32: (events: Events, handler: (Events) -> Void)] = [:]
    private var timers: [UInt64: (deadline: Double, body: () -> Void)] = [:]
    private var nextTimer: UInt64 = 0
    private var running = false
    /// Counts loop turns, so that work done once per turn (a /proc snapshot) can be cached by it.
    public private(set) var turn: UInt64 = 0
    /// Runs after each turn's events and timers: where buffered output is flushed, so a burst of
    /// messages to one client costs one write.
    public var onTurnEnd: () -> Void = {}

    public init() throws {
        epfd = sb_epoll_create()
        if epfd < 0 { throw SystemError("epoll_create1") }
    }

    deinit { close(epfd) }

    public func register(_ fd: Int32, _ events: Events, handler: @escaping (Events) -> Void) throws {
        if sb_epoll_ctl(epfd, SB_EPOLL_CTL_ADD, fd, events.rawValue) != 0 { throw SystemError("epoll_ctl(ADD)") }
        registrations[fd] = (events, handler)
    }

    public func modify(_ fd: Int32, _ events: Events) {
        guard let current = registrations[fd]?.events, current != events else { return }
        if sb_epoll_ctl(epfd, SB_EPOLL_CTL_MOD, fd, events.rawValue) == 0 { registrations[fd]?.events = events }
    }

    /// Stops watching `fd` (the caller still owns and closes it).
    public func unregister(_ fd: Int32) {
        guard registrations.removeValue(forKey: fd) != nil else { return }
        _ = sb_epoll_ctl(epfd, SB_EPOLL_CTL_DEL, fd, 0)
    }

    @discardableResult
    public func schedule(after seconds: Double, _ body: @escaping () -> Void) -> TimerID {
        nextTimer += 1
        timers[nextTimer] = (Clock.monotonic() + max(0, seconds), body)
        return TimerID(value: nextTimer)
    }

    public func cancel(_ id: TimerID?) {
        if let id { timers.removeValue(forKey: id.value) }
    }

    public func stop() { running = false }

    /// Runs until `stop()`; each turn fires due timers, then waits for I/O until the next deadline.
    public func run() {
        running = true
        var fds = [Int32](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        while running {
            turn &+= 1
            fireDueTimers()
            onTurnEnd()
            if !running { break }
            var timeout: Int32 = -1
            if let next = nextDeadline() {
                timeout = Int32(min(60_000, max(0, ((next - Clock.monotonic()) * 1000).rounded(.up))))
            }
            let n = sb_epoll_wait(epfd, &fds, &events, 256, timeout)
            guard n > 0 else { continue }
            for i in 0..<Int(n) {
                registrations[fds[i]]?.handler(Events(rawValue: events[i]))
            }
            onTurnEnd()
        }
    }

    /// The earliest deadline, found without allocating (there are few timers: one per module at most).
    private func nextDeadline() -> Double? {
        var next: Double?
        for timer in timers.values where next == nil || timer.deadline < next! { next = timer.deadline }
        return next
    }

    private func fireDueTimers() {
        guard let next = nextDeadline() else { return }
        let now = Clock.monotonic()
        guard next <= now else { return }
        let due = timers.filter { $0.value.deadline <= now }.sorted {
            ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key)
        }
        for (id, timer) in due where timers.removeValue(forKey: id) != nil {
            timer.body()
        }
    }
}
