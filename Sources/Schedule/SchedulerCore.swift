/// The scheduler as a pure value: jobs, their next and last fire times, runs in progress, and the
/// trading window. Its methods take the wall-clock time and return what to do; the daemon
/// performs the actions and arms one timer for `nextWake`.
///
/// A fire time is handed out at most once (each job remembers its last one, and the next is
/// always computed after it), so a clock set back never repeats a run; fire times found due
/// together (a clock set forward, a suspend) become one run that says how many it stands for.
public struct SchedulerCore: Sendable {
    public enum Overlap: String, Sendable, CaseIterable {
        /// Drop the new fire time while a run is going on.
        case skip
        /// Run once more when the current run ends (at most one waits).
        case queue
        /// Stop the current run and start again.
        case restart
    }

    public struct Job: Equatable, Sendable {
        public var name: String
        public var schedule: CronSchedule
        /// Run once at start-up if a fire time passed while the daemon was down (systemd's `Persistent=`).
        public var catchUp: Bool
        public var overlap: Overlap
        /// Runs that last (a module run once): only those can overlap.
        public var lasts: Bool

        public init(name: String, schedule: CronSchedule, catchUp: Bool, overlap: Overlap, lasts: Bool) {
            self.name = name
            self.schedule = schedule
            self.catchUp = catchUp
            self.overlap = overlap
            self.lasts = lasts
        }
    }

    public enum Reason: String, Sendable {
        case scheduled
        case catchUp = "catch-up"
        case manual
        case queued
    }

    public enum Action: Equatable, Sendable {
        /// Start a run. `coalesced` counts the further fire times this one run stands for.
        case run(job: String, fireTime: Int64, reason: Reason, coalesced: Int)
        /// Stop the job's current run, then start it again (overlap: restart).
        case restart(job: String, fireTime: Int64)
        case skip(job: String, fireTime: Int64, why: String)
        /// Fire times that passed while the daemon was down, for a job without `catch_up`.
        case missed(job: String, count: Int, first: Int64, last: Int64)
        /// The trading module should run (`true`) or not.
        case trading(open: Bool, edge: Int64?)
    }

    public struct JobState: Equatable, Sendable {
        public var job: Job
        public var next: Int64?
        public var lastFire: Int64?
        public var running = false
        public var queued: Int64?
    }

    /// An operator's start or stop of the trading module, which stands until `until` (the next edge).
    public struct Override: Equatable, Sendable {
        public var open: Bool
        public var until: Int64?
    }

    public private(set) var jobs: [JobState] = []
    public private(set) var window: TradingWindow?
    public private(set) var nextEdge: (at: Int64, opens: Bool)?
    public private(set) var override: Override?

    /// The most fire times counted in one coalesced run (about ten weeks of minutes), to bound the work.
    static let countLimit = 100_000

    public init(jobs: [Job], lastFires: [String: Int64], window: TradingWindow?, now: Int64) {
        self.window = window
        self.jobs = jobs.map { job in
            var state = JobState(job: job, lastFire: lastFires[job.name])
            state.next = job.schedule.next(after: now)
            return state
        }
        nextEdge = window?.nextEdge(after: now)
    }

    public var nextWake: Int64? {
        let times = jobs.compactMap(\.next) + [nextEdge?.at].compactMap { $0 }
        return times.min()
    }

    public func state(of name: String) -> JobState? { jobs.first { $0.job.name == name } }

    public var lastFires: [String: Int64] {
        var out: [String: Int64] = [:]
        for state in jobs { out[state.job.name] = state.lastFire }
        return out
    }

    /// What start-up owes: catch-up runs for fire times missed while down, and the trading module
    /// started if the window is open now (never stopped here: a start outside the window simply
    /// does not start it).
    public mutating func start(now: Int64, tradingStoppedByOperator: Bool = false) -> [Action] {
        var actions: [Action] = []
        for i in jobs.indices {
            guard let last = jobs[i].lastFire, let due = jobs[i].job.schedule.previous(before: now + 1), due > last
            else { continue }
            let (count, first) = countFires(jobs[i].job.schedule, after: last, through: due)
            if jobs[i].job.catchUp {
                jobs[i].lastFire = due
                actions.append(begin(i, fireTime: due, reason: .catchUp, coalesced: count - 1))
            } else {
                actions.append(.missed(job: jobs[i].job.name, count: count, first: first, last: due))
            }
        }
        if let window {
            if tradingStoppedByOperator {
                override = Override(open: false, until: nextEdge?.at)
            } else if window.isOpen(at: now) {
                actions.append(.trading(open: true, edge: nil))
            }
        }
        return actions
    }

    /// Everything due at `now`: one run per due job, and the trading edge.
    public mutating func advance(now: Int64) -> [Action] {
        var actions: [Action] = []
        for i in jobs.indices {
            guard let next = jobs[i].next, next <= now else { continue }
            let (count, _) = countFires(jobs[i].job.schedule, after: next - 1, through: now)
            let fire = jobs[i].job.schedule.previous(before: now + 1) ?? next
            jobs[i].lastFire = fire
            jobs[i].next = jobs[i].job.schedule.next(after: max(now, fire))
            actions.append(begin(i, fireTime: fire, reason: .scheduled, coalesced: count - 1))
        }
        if let edge = nextEdge, edge.at <= now, let window {
            override = nil
            let open = window.isOpen(at: now)
            nextEdge = window.nextEdge(after: now)
            actions.append(.trading(open: open, edge: edge.at))
        }
        return actions
    }

    /// An operator asked for a run now.
    public mutating func runNow(_ name: String, now: Int64) -> Action? {
        guard let i = jobs.firstIndex(where: { $0.job.name == name }) else { return nil }
        return begin(i, fireTime: now, reason: .manual, coalesced: 0)
    }

    /// A lasting run ended; a queued fire time starts now.
    public mutating func runEnded(_ name: String) -> Action? {
        guard let i = jobs.firstIndex(where: { $0.job.name == name }) else { return nil }
        jobs[i].running = false
        guard let queued = jobs[i].queued else { return nil }
        jobs[i].queued = nil
        return begin(i, fireTime: queued, reason: .queued, coalesced: 0)
    }

    /// An operator started or stopped the trading module: that stands until the next edge.
    public mutating func operatorActed(open: Bool) -> Override? {
        guard window != nil else { return nil }
        override = Override(open: open, until: nextEdge?.at)
        return override
    }

    /// A reload: new definitions, keeping the last fire times and runs of jobs that stay.
    public mutating func update(jobs newJobs: [Job], window newWindow: TradingWindow?, now: Int64) -> [Action] {
        let old = Dictionary(uniqueKeysWithValues: jobs.map { ($0.job.name, $0) })
        jobs = newJobs.map { job in
            var state = old[job.name] ?? JobState(job: job)
            state.job = job
            state.next = job.schedule.next(after: max(now, state.lastFire ?? now))
            return state
        }
        let windowChanged = newWindow != window
        window = newWindow
        nextEdge = newWindow?.nextEdge(after: now)
        guard windowChanged else { return [] }
        override = nil
        if let newWindow, newWindow.isOpen(at: now) { return [.trading(open: true, edge: nil)] }
        return []
    }

    private mutating func begin(_ i: Int, fireTime: Int64, reason: Reason, coalesced: Int) -> Action {
        let job = jobs[i].job
        if job.lasts && jobs[i].running {
            switch job.overlap {
            case .skip:
                return .skip(job: job.name, fireTime: fireTime, why: "the previous run is still going (overlap: skip)")
            case .queue:
                let replaced = jobs[i].queued != nil
                jobs[i].queued = fireTime
                return .skip(
                    job: job.name, fireTime: fireTime,
                    why: replaced
                        ? "queued behind the running one, replacing the fire time already waiting (overlap: queue)"
                        : "queued behind the running one (overlap: queue)")
            case .restart:
                return .restart(job: job.name, fireTime: fireTime)
            }
        }
        if job.lasts { jobs[i].running = true }
        return .run(job: job.name, fireTime: fireTime, reason: reason, coalesced: max(0, coalesced))
    }

    /// Fire times in `(after, through]`: how many (bounded) and the first.
    private func countFires(_ schedule: CronSchedule, after: Int64, through: Int64) -> (count: Int, first: Int64) {
        var count = 0
        var first = through
        var t = after
        while count < Self.countLimit, let next = schedule.next(after: t), next <= through {
            if count == 0 { first = next }
            count += 1
            t = next
        }
        return (max(count, 1), first)
    }
}
