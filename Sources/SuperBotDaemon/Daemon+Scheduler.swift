import Bus
import JSON
import RPC
import Schedule
import SuperBotConfig
import SystemKit

/// The scheduler inside the daemon's loop: `SchedulerCore` decides, this file acts. One wall-clock
/// timer is armed for the earliest fire time or trading-hours edge; a clock that is set wakes it
/// too. Every run is logged, published as `scheduler.job.<name>` and recorded in `state.json`.
extension Daemon {
    /// A job run in progress: a module run once (`run`) until it exits, or a start/stop until it settles.
    struct JobRun {
        var job: String
        var fireTime: Int64
        var sawProcess = false
    }

    static func now() -> Int64 { Int64(Clock.wall().rounded(.down)) }

    func startScheduler() {
        let now = Daemon.now()
        state.registerJobs(config.schedule.jobs.map(\.name), now: now)
        var lastFires: [String: Int64] = [:]
        for job in config.schedule.jobs {
            let record = state.jobs[job.name]!
            lastFires[job.name] = record.lastFire ?? record.since
        }
        scheduler = SchedulerCore(
            jobs: config.schedule.jobs.map(\.coreJob), lastFires: lastFires, window: config.schedule.tradingWindow,
            now: now)
        do {
            wallTimer = try WallTimer(loop: loop) { [unowned self] wake in self.schedulerWoke(wake) }
        } catch {
            logger.error("scheduler cannot create its timer; no job will run", ["error": .string("\(error)")])
        }
        let stopped = config.schedule.tradingWindow.map { state.operatorStopped.contains($0.module) } ?? false
        perform(scheduler.start(now: now, tradingStoppedByOperator: stopped))
        if !config.schedule.jobs.isEmpty || config.schedule.tradingWindow != nil {
            logger.info(
                "scheduler started",
                [
                    "jobs": JSON(config.schedule.jobs.count), "timezone": .string(config.schedule.zone.name),
                    "trading_hours": config.schedule.tradingWindow.map { .string($0.description) } ?? .null,
                    "next": scheduler.nextWake.map { .string(ISO8601.utc($0)) } ?? .null,
                ])
        }
        armScheduler()
    }

    /// Modules the trading window keeps down at start-up (autostart does not start them outside it).
    func closedByTradingHours(now: Int64) -> Set<String> {
        guard let window = config.schedule.tradingWindow, !window.isOpen(at: now) else { return [] }
        logger.info(
            "outside trading hours: not starting the trading module",
            [
                "module": .string(window.module), "window": .string(window.description),
                "opens": window.nextEdge(after: now).map { .string(ISO8601.local($0.at, in: window.opens.zone)) }
                    ?? .null,
            ])
        return [window.module]
    }

    func reloadScheduler() {
        let now = Daemon.now()
        state.registerJobs(config.schedule.jobs.map(\.name), now: now)
        perform(
            scheduler.update(jobs: config.schedule.jobs.map(\.coreJob), window: config.schedule.tradingWindow, now: now)
        )
        armScheduler()
    }

    func stopScheduler() {
        wallTimer?.arm(at: nil)
    }

    func armScheduler() {
        guard !isShuttingDown else { return stopScheduler() }
        wallTimer?.arm(at: scheduler.nextWake.map(Double.init))
    }

    private func schedulerWoke(_ wake: WallTimer.Wake) {
        guard !isShuttingDown else { return }
        if case .clockChanged = wake {
            logger.warning(
                "the wall clock was set; fire times are checked again",
                [
                    "now": .string(ISO8601.utc(Daemon.now())),
                    "next": scheduler.nextWake.map { .string(ISO8601.utc($0)) } ?? .null,
                ])
        }
        perform(scheduler.advance(now: Daemon.now()))
        armScheduler()
    }

    func perform(_ actions: [SchedulerCore.Action]) {
        for action in actions { perform(action) }
    }

    func perform(_ action: SchedulerCore.Action) {
        switch action {
        case .run(let name, let fireTime, let reason, let coalesced):
            guard let job = config.schedule.jobs.first(where: { $0.name == name }) else { return }
            let now = Daemon.now()
            state.updateJob(name, now: now) {
                $0.lastFire = fireTime
                $0.lastRun = Clock.wall()
                $0.result = "started"
                $0.detail = nil
            }
            var fields: [String: JSON] = [
                "job": .string(name), "action": .string(job.action.name), "fire_time": .string(ISO8601.utc(fireTime)),
                "reason": .string(reason.rawValue),
            ]
            if coalesced > 0 {
                fields["coalesced"] = JSON(coalesced)
                logger.warning(
                    "scheduler: several fire times were due at once (the clock was set forward or the machine slept); running once",
                    fields)
            }
            logger.info("scheduler job started", fields)
            publishJob(name, "started", fields)
            execute(job, fireTime: fireTime)
        case .restart(let name, let fireTime):
            guard let job = config.schedule.jobs.first(where: { $0.name == name }),
                case .run(let module, _) = job.action, let runner = modules[module]
            else { return }
            logger.info(
                "scheduler job restarted (overlap: restart)",
                ["job": .string(name), "fire_time": .string(ISO8601.utc(fireTime))])
            jobRuns[module] = JobRun(job: name, fireTime: fireTime, sawProcess: runner.state.hasProcess)
            state.updateJob(name, now: Daemon.now()) {
                $0.lastFire = fireTime
                $0.lastRun = Clock.wall()
                $0.result = "started"
            }
            publishJob(name, "started", ["fire_time": .string(ISO8601.utc(fireTime)), "reason": "restart"])
            runner.restart()
        case .skip(let name, let fireTime, let why):
            logger.info(
                "scheduler job skipped",
                ["job": .string(name), "fire_time": .string(ISO8601.utc(fireTime)), "why": .string(why)])
            publishJob(name, "skipped", ["fire_time": .string(ISO8601.utc(fireTime)), "why": .string(why)])
        case .missed(let name, let count, let first, let last):
            let fields: [String: JSON] = [
                "job": .string(name), "missed": JSON(count), "first": .string(ISO8601.utc(first)),
                "last": .string(ISO8601.utc(last)), "why": "the daemon was down and catch_up is off",
            ]
            logger.warning("scheduler job missed fire times while the daemon was down", fields)
            state.updateJob(name, now: Daemon.now()) { $0.lastFire = last }
            publishJob(name, "skipped", fields)
        case .trading(let open, let edge):
            guard let window = config.schedule.tradingWindow, modules[window.module] != nil else { return }
            let fields: [String: JSON] = [
                "module": .string(window.module), "open": .bool(open), "window": .string(window.description),
                "edge": edge.map { .string(ISO8601.utc($0)) } ?? .null,
            ]
            logger.info(
                open
                    ? "trading hours: window open, starting the trading module"
                    : "trading hours: window closed, stopping the trading module", fields)
            bus.publish(topic: "scheduler.trading", .object(fields), source: "scheduler")
            if open {
                state.setStopped(window.module, false)
                enqueueStart(Array(graph.closure(of: [window.module])))
            } else {
                enqueueStop([window.module])
            }
        }
    }

    private func execute(_ job: ScheduleConfig.Job, fireTime: Int64) {
        let name = job.name
        switch job.action {
        case .start(let module), .stop(let module):
            let stopping = job.action.name == "stop"
            state.setStopped(module, stopping)
            if stopping { enqueueStop([module]) } else { enqueueStart(Array(graph.closure(of: [module]))) }
            wait(for: [module], stopping: stopping, timeout: 120) { [unowned self] in
                self.finishJob(name, ok: true, detail: "\(module) \(stopping ? "stopped" : "running")")
            } timedOut: { [unowned self] in
                let state = self.modules[module]?.state.rawValue ?? "missing"
                self.finishJob(name, ok: false, detail: "\(module) did not settle within 120 s (it is \(state))")
            }
        case .run(let module, let args):
            guard let runner = modules[module], runner.spec.enabled else {
                return finishJob(name, ok: false, detail: "module '\(module)' is disabled or missing")
            }
            guard !runner.state.hasProcess else {
                return finishJob(name, ok: false, detail: "module '\(module)' is already running outside the scheduler")
            }
            runner.runArguments = args
            jobRuns[module] = JobRun(job: name, fireTime: fireTime)
            enqueueStart(Array(graph.closure(of: [module])))
        case .publish(let topic, let data):
            var payload = data
            if case .object(var fields) = data {
                fields["fire_time"] = .string(ISO8601.utc(fireTime))
                fields["job"] = .string(name)
                payload = .object(fields)
            }
            let delivered = bus.publish(topic: topic, payload, source: "scheduler")
            finishJob(
                name, ok: true, detail: "published \(topic) to \(delivered) subscriber\(delivered == 1 ? "" : "s")")
        case .call(let method, let params):
            let connection = Connection(
                id: -1, fd: -1, isTCP: false, maxMessageBytes: config.ipc.maxMessageBytes, authenticated: true,
                now: Clock.monotonic(), queue: BoundedQueue(capacity: 1, byteLimit: 1))
            connection.source = "scheduler"
            handle(RPCRequest(id: .string("scheduler-\(name)"), method: method, params: params), connection) {
                [unowned self] result in
                switch result {
                case .success(let value): self.finishJob(name, ok: true, detail: String(value.serialized().prefix(300)))
                case .failure(let error): self.finishJob(name, ok: false, detail: error.message)
                }
            }
        }
    }

    /// A module run by a job changed state: its run ends when its process is gone.
    func schedulerModuleChanged(_ runner: ModuleRunner) {
        guard var run = jobRuns[runner.name] else { return }
        if runner.state.hasProcess {
            run.sawProcess = true
            jobRuns[runner.name] = run
            return
        }
        let failedToStart = runner.state == .fatal || runner.state == .crashed
        guard run.sawProcess || failedToStart else { return }
        jobRuns[runner.name] = nil
        runner.runArguments = []
        let exit = runner.lifecycle.lastExit
        let ok = runner.state == .stopped && exit?.isSuccess == true
        let detail = exit.map { "\(runner.name): \($0)" } ?? (runner.lifecycle.reason ?? runner.state.rawValue)
        finishJob(run.job, ok: ok, detail: detail)
        if let next = scheduler.runEnded(run.job) {
            perform(next)
            armScheduler()
        }
    }

    func finishJob(_ name: String, ok: Bool, detail: String) {
        let result = ok ? "finished" : "failed"
        state.updateJob(name, now: Daemon.now()) {
            $0.result = result
            $0.detail = detail
        }
        let fields: [String: JSON] = ["job": .string(name), "detail": .string(detail)]
        if ok {
            logger.info("scheduler job finished", fields)
        } else {
            logger.warning("scheduler job failed", fields)
        }
        publishJob(name, result, fields)
    }

    private func publishJob(_ name: String, _ status: String, _ fields: [String: JSON]) {
        var data = fields
        data["job"] = .string(name)
        data["status"] = .string(status)
        bus.publish(topic: "scheduler.job.\(name)", .object(data), source: "scheduler")
    }

    /// An operator started or stopped the trading-hours module: say until when that stands.
    func tradingOverrideNote(module: String, open: Bool) -> String? {
        guard let window = config.schedule.tradingWindow, window.module == module,
            let override = scheduler.operatorActed(open: open)
        else { return nil }
        let until = override.until.map { ISO8601.local($0, in: window.opens.zone) } ?? "never"
        return
            "trading hours (\(window.description)): \(module) stays \(open ? "running" : "stopped") until the next window edge at \(until)"
    }
}
