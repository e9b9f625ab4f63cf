import Glibc
import Testing

@testable import SystemKit

/// The loop remembers what each descriptor is registered for and skips a `modify` that changes
/// nothing: these check that what it remembers is always what epoll has.
@Suite struct EventLoopTests {
    @Test func interestTurnedOffStaysOffUntilTurnedOnAgain() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { for fd in fds { close(fd) } }
        var wakeups = 0
        var turnedOnAgain = false
        var wokeWhileOff = false
        try loop.register(fds[1], .writable) { _ in
            wakeups += 1
            if wakeups == 2 && !turnedOnAgain { wokeWhileOff = true }
            loop.modify(fds[1], [])
            loop.modify(fds[1], [])
            guard wakeups == 1 else { return loop.stop() }
            loop.schedule(after: 0.02) {
                turnedOnAgain = true
                loop.modify(fds[1], .writable)
                loop.modify(fds[1], .writable)
            }
        }
        loop.schedule(after: 5) { loop.stop() }
        loop.run()
        #expect(wakeups == 2)
        #expect(!wokeWhileOff)
    }

    @Test func aDescriptorRegisteredAgainStartsFromItsNewEvents() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { for fd in fds { close(fd) } }
        try loop.register(fds[1], .writable) { _ in }
        loop.unregister(fds[1])
        var woke = false
        try loop.register(fds[1], []) { _ in
            woke = true
            loop.stop()
        }
        // Registered for nothing now: turning writable on must reach epoll.
        loop.modify(fds[1], .writable)
        loop.schedule(after: 5) { loop.stop() }
        loop.run()
        #expect(woke)
    }
}
