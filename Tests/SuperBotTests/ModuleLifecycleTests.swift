import SystemKit
import Testing

@testable import Supervision

/// The restart policy on a manual clock: no processes, no sleeping.
@Suite struct ModuleLifecycleTests {
    typealias Action = ModuleLifecycle.Action

    func started(
        _ policy: RestartPolicy = RestartPolicy(restartDelay: 0.5, restartCooldown: 60, maxAttempts: 3, window: 300)
    ) -> ModuleLifecycle {
        var m = ModuleLifecycle(policy: policy, now: 0)
        #expect(m.start(now: 0) == [.cancelTimer, .spawn])
        #expect(m.state == .starting)
        #expect(m.spawned(now: 0) == [.notify(.started), .setTimer(1)])
        #expect(m.timerFired(now: 1) == [.cancelTimer, .notify(.running)])
        #expect(m.state == .running)
        return m
    }

    func delays(_ actions: [Action]) -> [Double] {
        actions.compactMap {
            if case .setTimer(let d) = $0 { return d }
            return nil
        }
    }

    @Test func crashBacksOffWithDoublingDelayThenGoesFatal() {
        var m = started()
        var now = 10.0
        for expected in [0.5, 1.0, 2.0] {
            let actions = m.exited(.exited(3), now: now)
            #expect(m.state == .backoff)
            #expect(delays(actions) == [expected])
            #expect(actions.contains(.notify(.crashed("exited with code 3"))))
            now += expected
            #expect(m.timerFired(now: now) == [.cancelTimer, .spawn])
            _ = m.spawned(now: now)
            now += 0.1
        }
        let last = m.exited(.signaled(9), now: now)
        #expect(m.state == .fatal)
        #expect(m.reason?.contains("gave up after 3 restarts") == true)
        #expect(m.reason?.contains("SIGKILL") == true)
        #expect(
            last.contains {
                if case .notify(.failed) = $0 { return true }
                return false
            })
        #expect(m.totalRestarts == 3)
    }

    @Test func delayIsCappedByCooldown() {
        var m = started(RestartPolicy(restartDelay: 20, restartCooldown: 30, maxAttempts: 10, window: 1000))
        var seen: [Double] = []
        var now = 5.0
        for _ in 0..<4 {
            seen += delays(m.exited(.exited(1), now: now))
            now += 100
            _ = m.timerFired(now: now)
            _ = m.spawned(now: now)
        }
        #expect(seen == [20, 30, 30, 30])
    }

    @Test func restartsOutsideTheWindowDoNotCount() {
        var m = started(RestartPolicy(restartDelay: 0, maxAttempts: 2, window: 60))
        var now = 1.0
        for _ in 0..<6 {
            _ = m.exited(.exited(1), now: now)
            #expect(m.state == .backoff)
            _ = m.timerFired(now: now)
            _ = m.spawned(now: now)
            now += 31  // two restarts never fall in the same 60 s window… but three would
        }
    }

    @Test func healthyRunResetsTheCount() {
        var m = started(RestartPolicy(restartDelay: 1, maxAttempts: 2, window: 10_000, resetAfter: 600))
        _ = m.exited(.exited(1), now: 10)
        _ = m.timerFired(now: 11)
        _ = m.spawned(now: 11)
        _ = m.timerFired(now: 12)
        #expect(delays(m.exited(.exited(1), now: 20)) == [2])
        _ = m.timerFired(now: 22)
        _ = m.spawned(now: 22)
        _ = m.timerFired(now: 23)
        // Up for ten minutes: the next crash starts over at the first delay instead of going fatal.
        #expect(delays(m.exited(.exited(1), now: 23 + 601)) == [1])
        #expect(m.recentRestarts.count == 1)
    }

    @Test func operatorStopIsNotACrash() {
        var m = started(RestartPolicy(stopSignal: 15, stopTimeout: 10))
        #expect(m.stop(now: 5) == [.signalGroup(15), .setTimer(10)])
        #expect(m.state == .stopping)
        #expect(m.timerFired(now: 15) == [.killGroup])
        let actions = m.exited(.signaled(9), now: 15.1)
        #expect(m.state == .stopped)
        #expect(!actions.contains(.spawn))
        #expect(m.totalRestarts == 0)
    }

    @Test func restartStopsThenStarts() {
        var m = started()
        #expect(m.restart(now: 5) == [.signalGroup(15), .setTimer(10)])
        let actions = m.exited(.signaled(15), now: 5.2)
        #expect(actions.contains(.spawn))
        #expect(m.state == .starting)
        #expect(m.totalRestarts == 0)
    }

    @Test func failedCheckKillsAndRestartsUnderThePolicy() {
        var m = started()
        #expect(m.failed("health check failed 3 times", now: 5) == [.signalGroup(15), .setTimer(10)])
        let actions = m.exited(.signaled(15), now: 5.1)
        #expect(m.state == .backoff)
        #expect(m.reason?.hasPrefix("health check failed 3 times") == true)
        #expect(delays(actions) == [0.5])
    }

    @Test func spawnFailureIsFatalAtOnce() {
        var m = ModuleLifecycle(policy: RestartPolicy(), now: 0)
        _ = m.start(now: 0)
        let actions = m.spawnFailed("posix_spawn(/x): No such file or directory", now: 0)
        #expect(m.state == .fatal)
        #expect(m.reason == "cannot start: posix_spawn(/x): No such file or directory")
        #expect(!actions.contains(.spawn))
        // An operator's start tries again from a clean count.
        #expect(m.start(now: 1) == [.cancelTimer, .spawn])
    }

    @Test func restartModes() {
        var onFailure = started(RestartPolicy(mode: .onFailure))
        _ = onFailure.exited(.exited(0), now: 5)
        #expect(onFailure.state == .stopped)
        var onFailureCrash = started(RestartPolicy(mode: .onFailure))
        _ = onFailureCrash.exited(.exited(2), now: 5)
        #expect(onFailureCrash.state == .backoff)
        var never = started(RestartPolicy(mode: .never))
        _ = never.exited(.exited(2), now: 5)
        #expect(never.state == .stopped)
        var noAuto = started(RestartPolicy(autoRestart: false))
        _ = noAuto.exited(.exited(2), now: 5)
        #expect(noAuto.state == .crashed)
    }

    @Test func healthCheckGatesRunning() {
        var m = ModuleLifecycle(policy: RestartPolicy(waitsForHealthCheck: true), now: 0)
        _ = m.start(now: 0)
        #expect(m.spawned(now: 0) == [.notify(.started)])
        #expect(m.timerFired(now: 100) == [])
        #expect(m.state == .starting)
        #expect(m.healthy(now: 101) == [.cancelTimer, .notify(.running)])
        #expect(m.state == .running)
    }

    @Test func stopDuringBackoffCancelsTheRestart() {
        var m = started()
        _ = m.exited(.exited(1), now: 3)
        #expect(m.stop(now: 3.1) == [.cancelTimer, .notify(.stopped("stopped by operator"))])
        #expect(m.timerFired(now: 4) == [])
        #expect(m.state == .stopped)
    }

    @Test func adoptedProcessRunsAndItsExitIsACrash() {
        var m = ModuleLifecycle(policy: RestartPolicy(), now: 0)
        _ = m.adopted(now: 0)
        #expect(m.state == .running)
        _ = m.exited(.unknown, now: 1)
        #expect(m.state == .backoff)
    }
}

/// What follows a stop is part of the state (`AfterStop`), so the last word wins.
@Suite struct ModuleLifecycleAfterStopTests {
    func running() -> ModuleLifecycle {
        var m = ModuleLifecycle(
            policy: RestartPolicy(restartDelay: 0.5, restartCooldown: 60, maxAttempts: 3, window: 300, startSeconds: 0),
            now: 0)
        _ = m.start(now: 0)
        _ = m.spawned(now: 0)
        #expect(m.state == .running)
        return m
    }

    @Test func anOperatorStopDuringAFailureKillStaysStopped() {
        var m = running()
        _ = m.failed("health check failed 3 times", now: 1)
        #expect(m.afterStop == .failure("health check failed 3 times"))
        _ = m.stop(now: 1.5)
        #expect(m.afterStop == .stay)
        let actions = m.exited(.signaled(15), now: 2)
        #expect(m.state == .stopped)
        #expect(
            !actions.contains {
                if case .setTimer = $0 { return true }
                return false
            })
    }

    @Test func aRestartDuringAFailureKillIsTheFailuresRestart() {
        var m = running()
        _ = m.failed("RSS over max_rss_mb", now: 1)
        #expect(m.restart(now: 1.1).isEmpty)
        _ = m.exited(.signaled(15), now: 2)
        #expect(m.state == .backoff)
        #expect(m.reason?.hasPrefix("RSS over max_rss_mb") == true)
    }

    @Test func startWhileStoppingBecomesARestart() {
        var m = running()
        _ = m.stop(now: 1)
        #expect(m.start(now: 1.1).isEmpty)
        #expect(m.afterStop == .start)
        #expect(m.exited(.signaled(15), now: 2) == [.notify(.stopped("restarting")), .cancelTimer, .spawn])
    }
}
