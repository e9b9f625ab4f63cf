import SystemKit

/// One module's lifecycle as a pure value: every event takes the current time and returns the
/// actions the supervisor must perform. No processes, no clocks — tests drive it with numbers.
public struct ModuleLifecycle: Sendable {
    public enum Action: Equatable, Sendable {
        /// Start the process now.
        case spawn
        /// (Re)arm the module's single timer; when it fires, call `timerFired(now:)`.
        case setTimer(Double)
        case cancelTimer
        /// Send this signal to the module's whole process group.
        case signalGroup(Int32)
        /// SIGKILL the module's whole process group (and any escaped descendants).
        case killGroup
        /// Something an operator or the bus should hear about.
        case notify(Notice)
    }

    public enum Notice: Equatable, Sendable {
        case started
        case running
        case stopped(String)
        case crashed(String)
        case restarting(attempt: Int, delay: Double)
        case failed(String)
    }

    /// What follows once a stopping process is gone. Part of the state, not flags beside it, so
    /// "stopping to restart" and "stopping because a check failed" cannot both hold.
    public enum AfterStop: Equatable, Sendable {
        /// An operator's stop: stay stopped.
        case stay
        /// A restart or a reload: start again.
        case start
        /// The supervisor killed it (failed check, memory limit): the exit counts as a crash.
        case failure(String)
    }

    private enum Phase: Equatable, Sendable {
        case stopped, starting, running, backoff, crashed, fatal
        case stopping(AfterStop)
    }

    private var phase = Phase.stopped

    public var state: ModuleState {
        switch phase {
        case .stopped: .stopped
        case .starting: .starting
        case .running: .running
        case .backoff: .backoff
        case .crashed: .crashed
        case .fatal: .fatal
        case .stopping: .stopping
        }
    }

    /// Set while stopping: what happens when the process is gone.
    public var afterStop: AfterStop? {
        if case .stopping(let next) = phase { return next }
        return nil
    }
    /// When the current state began (monotonic seconds).
    public private(set) var since: Double
    /// Why the module is in its current state (`fatal`, `crashed`, `stopped` after an exit…).
    public private(set) var reason: String?
    /// Restarts performed since the count was last reset, with their times.
    public private(set) var recentRestarts: [Double] = []
    public private(set) var totalRestarts = 0
    public private(set) var lastExit: TerminationStatus?
    public var policy: RestartPolicy

    private var nextDelay: Double
    private var runningSince: Double?

    public init(policy: RestartPolicy, now: Double) {
        self.policy = policy
        self.since = now
        self.nextDelay = policy.restartDelay
    }

    private mutating func enter(_ newPhase: Phase, _ now: Double, reason: String? = nil) {
        phase = newPhase
        since = now
        self.reason = reason
    }

    /// An operator's or autostart's start. From `fatal` or `stopped` the restart count starts afresh.
    public mutating func start(now: Double) -> [Action] {
        switch phase {
        case .starting, .running, .stopping(.failure):
            return []
        case .stopping:
            phase = .stopping(.start)
            return []
        case .stopped, .fatal, .crashed, .backoff:
            if phase != .backoff {
                recentRestarts = []
                nextDelay = policy.restartDelay
            }
            return beginStart(now)
        }
    }

    private mutating func beginStart(_ now: Double) -> [Action] {
        enter(.starting, now)
        return [.cancelTimer, .spawn]
    }

    /// The process exists now.
    public mutating func spawned(now: Double) -> [Action] {
        guard phase == .starting else { return [] }
        runningSince = nil
        var actions: [Action] = [.notify(.started)]
        if !policy.waitsForHealthCheck {
            actions.append(policy.startSeconds > 0 ? .setTimer(policy.startSeconds) : .cancelTimer)
            if policy.startSeconds <= 0 { actions += becomeRunning(now) }
        }
        return actions
    }

    /// The executable could not be started at all (missing, not executable…): `fatal` at once,
    /// since retrying cannot help and a hot loop would hide the cause.
    public mutating func spawnFailed(_ error: String, now: Double) -> [Action] {
        enter(.fatal, now, reason: "cannot start: \(error)")
        return [.cancelTimer, .notify(.failed(reason!))]
    }

    /// The supervisor chose not to start the process after all (the daemon began shutting down
    /// between the request and the spawn): back to `stopped`, since no process exists to wait on.
    public mutating func spawnSkipped(_ why: String, now: Double) -> [Action] {
        guard phase == .starting else { return [] }
        enter(.stopped, now, reason: why)
        return [.cancelTimer, .notify(.stopped(why))]
    }

    /// A process found running from a previous daemon, now ours to watch.
    public mutating func adopted(now: Double) -> [Action] {
        enter(.running, now, reason: "adopted from a previous daemon")
        runningSince = now
        return [.cancelTimer]
    }

    /// The health check passed (or `startSeconds` elapsed without one).
    public mutating func healthy(now: Double) -> [Action] {
        guard phase == .starting else { return [] }
        return becomeRunning(now)
    }

    private mutating func becomeRunning(_ now: Double) -> [Action] {
        enter(.running, now)
        runningSince = now
        return [.cancelTimer, .notify(.running)]
    }

    public mutating func timerFired(now: Double) -> [Action] {
        switch phase {
        case .starting: return policy.waitsForHealthCheck ? [] : becomeRunning(now)
        case .backoff: return beginStart(now)
        case .stopping: return [.killGroup]
        default: return []
        }
    }

    /// An operator's stop; it also wins over a restart or a failure kill already under way.
    public mutating func stop(now: Double) -> [Action] {
        switch phase {
        case .starting, .running:
            enter(.stopping(.stay), now)
            return [.signalGroup(policy.stopSignal), .setTimer(policy.stopTimeout)]
        case .backoff, .crashed, .fatal:
            enter(.stopped, now, reason: "stopped by operator")
            return [.cancelTimer, .notify(.stopped("stopped by operator"))]
        case .stopping:
            phase = .stopping(.stay)
            return []
        case .stopped:
            return []
        }
    }

    /// Stop, then start again once the process is gone (an operator's restart or a reload).
    public mutating func restart(now: Double) -> [Action] {
        switch phase {
        case .starting, .running:
            enter(.stopping(.start), now)
            return [.signalGroup(policy.stopSignal), .setTimer(policy.stopTimeout)]
        case .stopping(.failure):
            return []
        case .stopping:
            phase = .stopping(.start)
            return []
        default:
            return start(now: now)
        }
    }

    /// A failed health check, an RSS limit, a zombie: kill the process and restart it under the policy.
    public mutating func failed(_ why: String, now: Double) -> [Action] {
        guard phase == .starting || phase == .running else { return [] }
        enter(.stopping(.failure(why)), now, reason: why)
        return [.signalGroup(policy.stopSignal), .setTimer(policy.stopTimeout)]
    }

    /// The module's process ended.
    public mutating func exited(_ status: TerminationStatus, now: Double) -> [Action] {
        lastExit = status
        if let start = runningSince, now - start >= policy.resetAfter {
            recentRestarts = []
            nextDelay = policy.restartDelay
        }
        runningSince = nil
        switch phase {
        case .stopping(.start):
            return [.notify(.stopped("restarting"))] + beginStart(now)
        case .stopping(.stay):
            enter(.stopped, now, reason: "stopped (\(status))")
            return [.cancelTimer, .notify(.stopped(reason!))]
        case .stopping(.failure(let why)):
            return crashed("\(why); \(status)", status: status, now: now)
        case .starting, .running:
            return crashed(status.description, status: status, now: now)
        default:
            return []
        }
    }

    private mutating func crashed(_ why: String, status: TerminationStatus, now: Double) -> [Action] {
        let wanted: Bool
        switch policy.mode {
        case .always: wanted = true
        case .onFailure: wanted = !status.isSuccess
        case .never: wanted = false
        }
        if !wanted {
            enter(.stopped, now, reason: why)
            return [.cancelTimer, .notify(.stopped(why))]
        }
        enter(.crashed, now, reason: why)
        var actions: [Action] = [.cancelTimer, .notify(.crashed(why))]
        guard policy.autoRestart else { return actions }
        recentRestarts.removeAll { now - $0 > policy.window }
        if recentRestarts.count >= policy.maxAttempts {
            let message =
                "gave up after \(recentRestarts.count) restart\(recentRestarts.count == 1 ? "" : "s") within \(Int(policy.window)) s; last exit: \(why)"
            enter(.fatal, now, reason: message)
            actions.append(.notify(.failed(message)))
            return actions
        }
        let delay = nextDelay
        nextDelay = min(max(nextDelay * 2, policy.restartDelay), policy.restartCooldown)
        recentRestarts.append(now)
        totalRestarts += 1
        enter(.backoff, now, reason: why)
        actions += [.notify(.restarting(attempt: recentRestarts.count, delay: delay)), .setTimer(delay)]
        return actions
    }
}
