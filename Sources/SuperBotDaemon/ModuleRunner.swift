import Glibc
import JSON
import SuperBotConfig
import Supervision
import SystemKit

/// One supervised module: its lifecycle value, its process, and the side effects the lifecycle asks for.
/// Like s6-supervise, one per module; all of them run on the daemon's event-loop thread.
final class ModuleRunner {
    private(set) var spec: ModuleSpec
    private(set) var lifecycle: ModuleLifecycle
    unowned let context: any ModuleRunnerContext

    private(set) var pid: pid_t?
    private(set) var startTime: UInt64 = 0
    private(set) var startedWall: Double?
    private var adoptedPidFD: Int32?
    private var timer: EventLoop.TimerID?
    private var healthTimer: EventLoop.TimerID?
    private var healthFailures = 0
    private var probe: HealthProbe?
    /// Descendants seen at the last watchdog pass or stop, so ones that left the group die with the module.
    private var knownTree: [ProcStat] = []
    private var cpuSample: (ticks: UInt64, at: Double)?
    private(set) var resources = ModuleResources()
    private var stoppedStateReported = false
    /// Set while a crash restart is pending, so the next start is announced as `module.restarted`.
    var pendingRestartAttempt: Int?
    private var lastHeartbeat = 0.0
    private var heartbeatTimer: EventLoop.TimerID?

    enum CountedEvent { case spawn, spawnFailure, healthCheckFailure }

    init(spec: ModuleSpec, context: any ModuleRunnerContext) {
        self.spec = spec
        self.context = context
        self.lifecycle = ModuleLifecycle(
            policy: ModuleRunner.policy(spec, context.moduleSettings.watchdog), now: Clock.monotonic())
    }

    static func policy(_ spec: ModuleSpec, _ watchdog: DaemonConfig.Watchdog) -> RestartPolicy {
        let mode: RestartPolicy.Mode
        switch spec.restart {
        case .always: mode = .always
        case .onFailure: mode = .onFailure
        case .never: mode = .never
        }
        return RestartPolicy(
            mode: mode, autoRestart: watchdog.autoRestartOnCrash, restartDelay: spec.restartDelay,
            restartCooldown: spec.restartCooldown, maxAttempts: spec.maxRestartAttempts, window: spec.restartWindow,
            resetAfter: spec.resetAfter, startSeconds: spec.startSeconds, stopSignal: spec.stopSignal,
            stopTimeout: spec.stopTimeout, waitsForHealthCheck: spec.httpCheck != nil || spec.heartbeatTimeout != nil)
    }

    var name: String { spec.name }
    var state: ModuleState { lifecycle.state }
    var pidFilePath: String { context.moduleSettings.runDirectory + "/\(name).pid" }
    var logPath: String {
        FileSystem.absolute(FileSystem.resolve(spec.logFile, against: context.moduleSettings.baseDirectory))
    }

    // MARK: Events from the daemon

    func start() { apply(lifecycle.start(now: Clock.monotonic())) }
    func stop() { apply(lifecycle.stop(now: Clock.monotonic())) }
    func restart() { apply(lifecycle.restart(now: Clock.monotonic())) }

    /// A reload changed the definition: take the new one, restarting the process if there is one.
    func update(spec newSpec: ModuleSpec) {
        spec = newSpec
        lifecycle.policy = ModuleRunner.policy(newSpec, context.moduleSettings.watchdog)
        if state.hasProcess { restart() }
    }

    /// Cancels everything that could call back into this runner, so it can be freed (a reload
    /// removed its module and its process is gone).
    func retire() {
        context.loop.cancel(timer)
        timer = nil
        stopHealthChecks()
        if let fd = adoptedPidFD {
            context.loop.unregister(fd)
            close(fd)
            adoptedPidFD = nil
        }
    }

    func processExited(_ status: TerminationStatus) {
        guard let pid else { return }
        killLeftovers(of: pid)
        if let fd = adoptedPidFD {
            context.loop.unregister(fd)
            close(fd)
            adoptedPidFD = nil
        }
        self.pid = nil
        startedWall = nil
        cpuSample = nil
        resources = ModuleResources()
        stopHealthChecks()
        unlink(pidFilePath)
        context.logger.info(
            "module exited", ["module": .string(name), "pid": JSON(pid), "status": .string(status.description)])
        apply(lifecycle.exited(status, now: Clock.monotonic()))
    }

    /// Takes over a process a previous daemon started, if its PID file still describes it.
    func adoptIfRunning() -> Bool {
        guard let file = ModulePidFile.read(pidFilePath) else { return false }
        guard file.matchesLiveProcess() else {
            unlink(pidFilePath)
            context.logger.info("stale module pid file removed", ["module": .string(name), "pid": JSON(file.pid)])
            return false
        }
        do {
            let fd = try ProcessControl.openPidFD(file.pid)
            try context.loop.register(fd, .readable) { [unowned self] _ in self.processExited(.unknown) }
            adoptedPidFD = fd
        } catch {
            context.logger.error(
                "cannot watch adopted module", ["module": .string(name), "error": .string("\(error)")])
            return false
        }
        pid = file.pid
        startTime = file.startTime
        startedWall = Clock.wall() - uptimeFromStartTime(file.startTime)
        apply(lifecycle.adopted(now: Clock.monotonic()))
        startHealthChecks()
        context.logger.info("module adopted", ["module": .string(name), "pid": JSON(file.pid)])
        return true
    }

    // MARK: Actions

    func apply(_ actions: [ModuleLifecycle.Action]) {
        for action in actions {
            switch action {
            case .spawn: spawn()
            case .setTimer(let delay):
                context.loop.cancel(timer)
                timer = context.loop.schedule(after: delay) { [unowned self] in
                    self.timer = nil
                    self.apply(self.lifecycle.timerFired(now: Clock.monotonic()))
                }
            case .cancelTimer:
                context.loop.cancel(timer)
                timer = nil
            case .signalGroup(let signal): signalTree(signal)
            case .killGroup:
                context.logger.warning(
                    "module did not stop in time; sending SIGKILL",
                    ["module": .string(name), "stop_timeout": JSON(spec.stopTimeout)])
                signalTree(SIGKILL)
            case .notify(let notice): context.runner(self, noticed: notice)
            }
        }
        context.runnerChanged(self)
    }

    private func spawn() {
        if context.isShuttingDown {
            apply(lifecycle.spawnSkipped("not started: the daemon is shutting down", now: Clock.monotonic()))
            return
        }
        do {
            let request = try spawnRequest()
            try FileSystem.makeDirectories(FileSystem.directoryName(request.outputPath!))
            let newPID = try Spawner.spawn(request)
            pid = newPID
            startedWall = Clock.wall()
            startTime = ProcStat.read(newPID)?.startTime ?? 0
            healthFailures = 0
            knownTree = []
            stoppedStateReported = false
            let exe = ProcStat.executable(newPID) ?? request.executable
            try? ModulePidFile(pid: newPID, startTime: startTime, executable: exe).write(to: pidFilePath)
            context.count(.spawn)
            context.logger.info(
                "module started",
                ["module": .string(name), "pid": JSON(newPID), "command": .string(request.executable)])
            apply(lifecycle.spawned(now: Clock.monotonic()))
            startHealthChecks()
        } catch {
            context.count(.spawnFailure)
            context.logger.error("module cannot start", ["module": .string(name), "error": .string("\(error)")])
            apply(lifecycle.spawnFailed("\(error)", now: Clock.monotonic()))
        }
    }

    struct NotFound: Error, CustomStringConvertible {
        let command: String
        let searched: String
        var description: String {
            "executable '\(command)' not found (searched \(searched)); fix 'command' or install it"
        }
    }

    func spawnRequest() throws -> SpawnRequest {
        let settings = context.moduleSettings
        let base = settings.baseDirectory
        var env = Environment.all().filter { !$0.hasPrefix("NOTIFY_SOCKET=") && !$0.hasPrefix("SUPERBOT_") }
        env.append("SUPERBOT_MODULE=\(name)")
        env.append("SUPERBOT_SOCKET=\(FileSystem.absolute(settings.socketPath))")
        env.append("SUPERBOT_LOG_DIR=\(FileSystem.absolute(settings.logDirectory))")
        env.append("SUPERBOT_CONFIG_DIR=\(FileSystem.absolute(FileSystem.directoryName(settings.configFile)))")
        if let token = settings.authToken { env.append("SUPERBOT_TOKEN=\(token)") }
        for (key, value) in spec.env.sorted(by: { $0.key < $1.key }) {
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append("\(key)=\(value)")
        }
        let executable: String
        let argv: [String]
        if spec.shell {
            executable = "/bin/sh"
            argv = ["sh", "-c", spec.command, name] + spec.args
        } else {
            let found = Spawner.resolveExecutable(
                spec.command, base: base, searchPath: Environment.get("PATH"), siblingsFirst: spec.kind == .executable)
            guard let found else {
                throw NotFound(
                    command: spec.command,
                    searched: spec.command.contains("/")
                        ? FileSystem.resolve(spec.command, against: base) : "next to superbot and on PATH")
            }
            executable = found
            argv = [spec.command] + spec.args
        }
        let cwd = spec.cwd.map { FileSystem.resolve($0, against: base) } ?? (base == "." ? nil : base)
        return SpawnRequest(
            executable: executable, arguments: argv, environment: env, workingDirectory: cwd, outputPath: logPath)
    }

    /// Signals the module's process group, plus descendants that left it (setsid) but are still ours.
    private func signalTree(_ signal: Int32) {
        guard let pid else { return }
        if signal != SIGKILL || knownTree.isEmpty {
            knownTree = ProcessTable.scan().tree(of: pid)
        }
        kill(-pid, signal)
        kill(pid, signal)
        for member in knownTree where member.pgrp != pid && ProcStat.read(member.pid)?.startTime == member.startTime {
            kill(member.pid, signal)
        }
    }

    /// Once the main process is gone, nothing of its tree may linger: SIGKILL what is left.
    private func killLeftovers(of pid: pid_t) {
        kill(-pid, SIGKILL)
        for member in knownTree where ProcStat.read(member.pid)?.startTime == member.startTime {
            kill(member.pid, SIGKILL)
        }
        knownTree = []
    }

    // MARK: Watchdog

    /// One watchdog pass: resource figures from /proc, process-state alerts, the RSS limit.
    func sample(_ table: ProcessTable, now: Double) {
        guard let pid, let main = table.entries[pid] ?? ProcStat.read(pid) else { return }
        let tree = table.tree(of: pid)
        knownTree = tree
        let members = [main] + tree
        let ticks = members.reduce(0) { $0 + $1.cpuTicks }
        var cpu = 0.0
        if let last = cpuSample, now > last.at, ticks >= last.ticks {
            cpu = Double(ticks - last.ticks) / Double(ProcStat.clockTicks) / (now - last.at) * 100
        }
        cpuSample = (ticks, now)
        resources = ModuleResources(
            cpuPercent: cpu, rssBytes: members.reduce(0) { $0 + $1.rssBytes },
            threads: members.reduce(0) { $0 + $1.threads },
            openFiles: ProcStat.openFileCount(pid), children: tree.count, processState: String(main.state))
        if main.isStopped && !stoppedStateReported {
            stoppedStateReported = true
            context.logger.warning(
                "module process is stopped (SIGSTOP?); it is not restarted",
                ["module": .string(name), "pid": JSON(pid)])
        }
        if let limit = spec.maxRSSMB, resources.rssBytes > UInt64(limit) << 20, state == .running {
            let why = "RSS \(resources.rssBytes >> 20) MiB over max_rss_mb \(limit)"
            context.logger.warning(
                "module over its memory limit; restarting",
                ["module": .string(name), "rss_bytes": JSON(resources.rssBytes)])
            apply(lifecycle.failed(why, now: now))
        }
    }

    /// Figures for `status` between watchdog passes: the last tree sample, with the main process's
    /// state (and, before the first sample, its RSS and threads) read now — one /proc read.
    func liveResources() -> ModuleResources {
        guard let pid, let stat = ProcStat.read(pid) else { return resources }
        var live = resources
        live.processState = String(stat.state)
        if cpuSample == nil {
            live.rssBytes = stat.rssBytes
            live.threads = stat.threads
        }
        return live
    }

    private func uptimeFromStartTime(_ ticks: UInt64) -> Double {
        guard let text = try? FileSystem.readString("/proc/uptime"),
            let up = Double(text.split(separator: " ").first ?? "")
        else { return 0 }
        return max(0, up - Double(ticks) / Double(ProcStat.clockTicks))
    }

    // MARK: HTTP health checks

    private func startHealthChecks() {
        lastHeartbeat = Clock.monotonic()
        if spec.heartbeatTimeout != nil { scheduleHeartbeatCheck() }
        guard spec.httpCheck != nil else { return }
        scheduleHealthCheck(after: 0.1)
    }

    // MARK: Heartbeat checks

    func heartbeatReceived() {
        guard pid != nil else { return }
        lastHeartbeat = Clock.monotonic()
        if spec.heartbeatTimeout != nil && state == .starting { apply(lifecycle.healthy(now: lastHeartbeat)) }
    }

    private func scheduleHeartbeatCheck() {
        guard let timeout = spec.heartbeatTimeout else { return }
        context.loop.cancel(heartbeatTimer)
        heartbeatTimer = context.loop.schedule(after: max(0.02, timeout / 4)) { [unowned self] in
            self.heartbeatTimer = nil
            guard self.pid != nil, self.state == .starting || self.state == .running else { return }
            let silent = Clock.monotonic() - self.lastHeartbeat
            if silent > timeout {
                self.context.count(.healthCheckFailure)
                self.context.logger.warning(
                    "module missed its heartbeat", ["module": .string(self.name), "silent_seconds": JSON(silent)])
                let why =
                    "no heartbeat on module.\(self.name).heartbeat for \(Int(silent * 10) / 10) s (timeout \(timeout) s)"
                self.apply(self.lifecycle.failed(why, now: Clock.monotonic()))
                return
            }
            self.scheduleHeartbeatCheck()
        }
    }

    private func stopHealthChecks() {
        context.loop.cancel(heartbeatTimer)
        heartbeatTimer = nil
        context.loop.cancel(healthTimer)
        healthTimer = nil
        probe?.cancel()
        probe = nil
    }

    private func scheduleHealthCheck(after delay: Double) {
        context.loop.cancel(healthTimer)
        healthTimer = context.loop.schedule(after: delay) { [unowned self] in
            self.healthTimer = nil
            self.runHealthCheck()
        }
    }

    private func runHealthCheck() {
        guard let check = spec.httpCheck, pid != nil, state == .starting || state == .running else { return }
        probe = HealthProbe(
            loop: context.loop, host: check.host, port: UInt16(check.port), path: check.path, timeout: check.timeout
        ) { [unowned self] result in
            self.probe = nil
            self.healthCheckFinished(result)
        }
    }

    private func healthCheckFinished(_ result: Result<Int, HealthProbe.Failure>) {
        guard let check = spec.httpCheck, pid != nil else { return }
        let now = Clock.monotonic()
        switch result {
        case .success:
            healthFailures = 0
            if state == .starting { apply(lifecycle.healthy(now: now)) }
        case .failure(let failure):
            // While starting, failures only count once the start grace period is over.
            if state == .running || now - lifecycle.since >= spec.startSeconds {
                healthFailures += 1
                context.count(.healthCheckFailure)
                context.logger.warning(
                    "health check failed",
                    ["module": .string(name), "failures": JSON(healthFailures), "error": .string(failure.description)])
            }
            if healthFailures >= check.failures {
                healthFailures = 0
                apply(lifecycle.failed("health check failed \(check.failures) times: \(failure.description)", now: now))
                return
            }
        }
        guard state == .starting || state == .running else { return }
        scheduleHealthCheck(after: state == .starting ? min(0.2, check.interval) : check.interval)
    }

    // MARK: Reporting

    func statusJSON(detailed: Bool) -> JSON {
        let res = liveResources()
        var o: [String: JSON] = [
            "name": .string(name), "state": .string(state.rawValue), "enabled": .bool(spec.enabled),
            "pid": pid.map { JSON($0) } ?? .null,
            "uptime_seconds": startedWall.map { JSON((Clock.wall() - $0).rounded(.down)) } ?? .null,
            "since": .string(Clock.iso8601(Clock.wall() - (Clock.monotonic() - lifecycle.since))),
            "restarts": JSON(lifecycle.totalRestarts), "recent_restarts": JSON(lifecycle.recentRestarts.count),
            "reason": JSON(lifecycle.reason),
            "cpu_percent": pid == nil ? .null : JSON((res.cpuPercent * 10).rounded() / 10),
            "rss_bytes": pid == nil ? .null : JSON(res.rssBytes),
        ]
        if detailed {
            o["threads"] = JSON(res.threads)
            o["open_files"] = JSON(res.openFiles)
            o["children"] = JSON(res.children)
            o["process_state"] = JSON(res.processState)
            o["command"] = .string(spec.command)
            o["args"] = .array(spec.args.map { .string($0) })
            o["log_file"] = .string(logPath)
            o["depends_on"] = .array(spec.dependsOn.map { .string($0) })
            o["last_exit"] = JSON(lifecycle.lastExit?.description)
            o["health_check"] =
                spec.httpCheck.map { .string("http://\($0.host):\($0.port)\($0.path)") }
                ?? spec.heartbeatTimeout.map { .string("heartbeat on module.\(name).heartbeat every \($0) s") } ?? .null
            o["operator_stopped"] = .bool(context.isOperatorStopped(name))
        }
        return .object(o)
    }
}

/// What the watchdog last read from /proc for a module's whole tree.
struct ModuleResources {
    var cpuPercent = 0.0
    var rssBytes: UInt64 = 0
    var threads = 0
    var openFiles = 0
    var children = 0
    var processState: String?
}
