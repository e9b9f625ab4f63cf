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

    public private(set) var state: ModuleState = .stopped
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
    private var startAfterStop = false
    /// Set when the supervisor kills a module for failing its checks: the exit then counts as a crash.
    private var failureBeingHandled: String?

    public init(policy: RestartPolicy, now: Double) {
        self.policy = policy
        self.since = now
        self.nextDelay = policy.restartDelay
    }

    private mutating func enter(_ newState: ModuleState, _ now: Double, reason: String? = nil) {
        state = newState
        since = now
        self.reason = reason
    }

    /// An operator's or autostart's start. From `fatal` or `stopped` the restart count starts afresh.
    public mutating func start(now: Double) -> [Action] {
        switch state {
        case .starting, .running:
            return []
        case .stopping:
            startAfterStop = true
            return []
        case .stopped, .fatal, .crashed, .backoff:
            if state != .backoff {
                recentRestarts = []
                nextDelay = policy.restartDelay
            }
            return beginStart(now)
        }
    }

    private mutating func beginStart(_ now: Double) -> [Action] {
        enter(.starting, now)
        failureBeingHandled = nil
        return [.cancelTimer, .spawn]
    }

    /// The process exists now.
    public mutating func spawned(now: Double) -> [Action] {
        guard state == .starting else { return [] }
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

    /// A process found running from a previous daemon, now ours to watch.
    public mutating func adopted(now: Double) -> [Action] {
        enter(.running, now, reason: "adopted from a previous daemon")
        runningSince = now
        return [.cancelTimer]
    }

    /// The health check passed (or `startSeconds` elapsed without one).
    public mutating func healthy(now: Double) -> [Action] {
        guard state == .starting else { return [] }
        return becomeRunning(now)
    }

    private mutating func becomeRunning(_ now: Double) -> [Action] {
        enter(.running, now)
        runningSince = now
        return [.cancelTimer, .notify(.running)]
    }

    public mutating func timerFired(now: Double) -> [Action] {
        switch state {
        case .starting: return policy.waitsForHealthCheck ? [] : becomeRunning(now)
        case .backoff: return beginStart(now)
        case .stopping: return [.killGroup]
        default: return []
        }
    }

    public mutating func stop(now: Double) -> [Action] {
        startAfterStop = false
        switch state {
        case .starting, .running:
            enter(.stopping, now)
            return [.signalGroup(policy.stopSignal), .setTimer(policy.stopTimeout)]
        case .backoff, .crashed, .fatal:
            enter(.stopped, now, reason: "stopped by operator")
            return [.cancelTimer, .notify(.stopped("stopped by operator"))]
        case .stopping, .stopped:
            return []
        }
    }

    /// Stop, then start again once the process is gone (an operator's restart or a reload).
    public mutating func restart(now: Double) -> [Action] {
        switch state {
        case .starting, .running:
            let actions = stop(now: now)
            startAfterStop = true
            return actions
        case .stopping:
            startAfterStop = true
            return []
        default:
            return start(now: now)
        }
    }

    /// A failed health check, an RSS limit, a zombie: kill the process and restart it under the policy.
    public mutating func failed(_ why: String, now: Double) -> [Action] {
        guard state == .starting || state == .running else { return [] }
        failureBeingHandled = why
        enter(.stopping, now, reason: why)
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
        switch state {
        case .stopping where failureBeingHandled == nil:
            if startAfterStop {
                startAfterStop = false
                return [.notify(.stopped("restarting"))] + beginStart(now)
            }
            enter(.stopped, now, reason: "stopped (\(status))")
            return [.cancelTimer, .notify(.stopped(reason!))]
        case .starting, .running, .stopping:
            let why = failureBeingHandled.map { "\($0); \(status)" } ?? status.description
            failureBeingHandled = nil
            startAfterStop = false
            return crashed(why, status: status, now: now)
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
            let message = "gave up after \(recentRestarts.count) restart\(recentRestarts.count == 1 ? "" : "s") within \(Int(policy.window)) s; last exit: \(why)"
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
