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
    var adoptedPidFD: Int32?
    var timer: EventLoop.TimerID?
    var healthTimer: EventLoop.TimerID?
    var healthFailures = 0
    /// The last HTTP health check's outcome, for `status` (nil before the first).
    var lastHealth: String?
    var probe: HealthProbe?
    /// Descendants seen at the last watchdog pass or stop, so ones that left the group die with the module.
    var knownTree: [ProcStat] = []
    var cpuSample: (ticks: UInt64, at: Double)?
    /// Open descriptors on the main process's stat and the cgroup's members, for the watchdog.
    var watch: ProcessWatch?
    var resources = ModuleResources()
    var stoppedStateReported = false
    /// Set while a crash restart is pending, so the next start is announced as `module.restarted`.
    var pendingRestartAttempt: Int?
    var lastHeartbeat = 0.0
    var heartbeatTimer: EventLoop.TimerID?
    /// Arguments after the configured ones for the next spawns: a scheduled run-once job's (`run`).
    var runArguments: [String] = []
    /// The module's cgroup, where the machine allows one (made at the first spawn or adoption).
    private(set) var cgroup: ModuleCgroup?
    private var cgroupTried = false
    /// Whether the running process was born in (or adopted from) a cgroup that holds every
    /// process of the module: then the group alone says what is left, with no `/proc` search.
    private(set) var contained = false

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
    /// The process that writes this module's output to `logPath` (started at the first spawn).
    private(set) lazy var logWriter = ModuleLogWriter(
        module: name, runDirectory: context.moduleSettings.runDirectory, runID: context.moduleSettings.runID,
        socket: FileSystem.absolute(context.moduleSettings.socketPath))
    var logWriterSettings: ModuleLogWriter.Settings {
        ModuleLogWriter.Settings(
            logPath: logPath, maxBytes: spec.logMaxBytes, keep: spec.logKeep,
            retentionDays: context.moduleSettings.retentionDays, timestamps: spec.logTimestamps)
    }

    // MARK: Events from the daemon

    func start() { apply(lifecycle.start(now: Clock.monotonic())) }
    func stop() { apply(lifecycle.stop(now: Clock.monotonic())) }
    func restart() { apply(lifecycle.restart(now: Clock.monotonic())) }

    /// A reload changed the definition: take the new one, restarting the process if there is one.
    func update(spec newSpec: ModuleSpec) {
        let logChanged =
            (spec.logFile, spec.logMaxBytes, spec.logKeep, spec.logTimestamps)
            != (newSpec.logFile, newSpec.logMaxBytes, newSpec.logKeep, newSpec.logTimestamps)
        spec = newSpec
        if logChanged && logWriter.pid != nil {
            do {
                try logWriter.restart(logWriterSettings)
            } catch {
                context.logger.error(
                    "cannot restart the log writer", ["module": .string(name), "error": .string("\(error)")])
            }
        }
        lifecycle.policy = ModuleRunner.policy(newSpec, context.moduleSettings.watchdog)
        if state.hasProcess { restart() }
    }

    /// Cancels everything that could call back into this runner, so it can be freed (a reload
    /// removed its module and its process is gone).
    func retire() {
        logWriter.stop(timeout: 2)
        cgroup?.remove()
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
        watch = nil
        resources = ModuleResources()
        stopHealthChecks()
        unlink(pidFilePath)
        context.logger.info(
            "module exited", ["module": .string(name), "pid": JSON(pid), "status": .string(status.description)])
        apply(lifecycle.exited(status, now: Clock.monotonic()))
    }

    /// Takes over the process a previous daemon started: the one its PID file names, if that
    /// process carries this module's marker; else, with no usable PID file, the oldest process of
    /// the module found by its marker. Never a process without the marker (a forged or reused PID).
    func adoptIfRunning() -> Bool {
        // A writer outlives its module's stop as well as a daemon crash: take it over either way.
        if logWriter.adopt() {
            context.logger.info("log writer adopted", ["module": .string(name), "pid": JSON(logWriter.pid ?? 0)])
        }
        let settings = context.moduleSettings
        let socket = FileSystem.absolute(settings.socketPath)
        if let file = ModulePidFile.read(pidFilePath) {
            let marker = ProcessMarker.read(file.pid)
            if file.matchesLiveProcess(), marker?.belongs(to: name, runID: settings.runID, socket: socket) == true {
                return adopt(file.pid, startTime: file.startTime, how: "pid file")
            }
            context.logger.warning(
                file.matchesLiveProcess()
                    ? "PID file names a process that is not this module's (it lacks the module's marker); not adopting it"
                    : "stale module pid file removed",
                ["module": .string(name), "pid": JSON(file.pid)])
            unlink(pidFilePath)
        } else if FileSystem.exists(pidFilePath) {
            context.logger.warning("unreadable module pid file removed", ["module": .string(name)])
            unlink(pidFilePath)
        }
        let snapshot = context.processSnapshot()
        let marked = snapshot.marked.filter { $0.value == name }.compactMap { snapshot.table.entries[$0.key] }
        let pids = Set(marked.map(\.pid))
        guard let root = marked.filter({ !pids.contains($0.ppid) }).min(by: { $0.startTime < $1.startTime }) else {
            return false
        }
        context.logger.warning(
            "module found running by its marker without a PID file; adopting it",
            ["module": .string(name), "pid": JSON(root.pid), "processes": .array(marked.map { JSON($0.pid) })])
        guard adopt(root.pid, startTime: root.startTime, how: "marker") else { return false }
        let exe = ProcStat.executable(root.pid) ?? ""
        try? ModulePidFile(pid: root.pid, startTime: root.startTime, executable: exe).write(to: pidFilePath)
        return true
    }

    /// The cgroup, made on first use; nil (and not tried again) where the machine has none for us.
    func moduleCgroup() -> ModuleCgroup? {
        // Another daemon's clean-up may have removed the group while it was empty: make it again.
        if let group = cgroup, !FileSystem.isDirectory(group.path) { cgroupTried = false }
        if !cgroupTried {
            cgroupTried = true
            cgroup =
                context.moduleSettings.useCgroups
                ? ModuleCgroup.make(runID: context.moduleSettings.runID, module: name) : nil
        }
        return cgroup
    }

    private func adopt(_ adoptedPID: pid_t, startTime: UInt64, how: String) -> Bool {
        let group = moduleCgroup()
        contained = group.map { $0.holdsEveryProcess && $0.members().contains(adoptedPID) } ?? false
        do {
            let fd = try ProcessControl.openPidFD(adoptedPID)
            try context.loop.register(fd, .readable) { [unowned self] _ in self.processExited(.unknown) }
            adoptedPidFD = fd
        } catch {
            context.logger.error(
                "cannot watch adopted module", ["module": .string(name), "error": .string("\(error)")])
            return false
        }
        pid = adoptedPID
        self.startTime = startTime
        startedWall = Clock.wall() - uptimeFromStartTime(startTime)
        apply(lifecycle.adopted(now: Clock.monotonic()))
        startHealthChecks()
        context.logger.info(
            "module adopted", ["module": .string(name), "pid": JSON(adoptedPID), "found_by": .string(how)])
        return true
    }

    /// A failed check, a memory limit: kill and restart under the policy.
    func fail(_ why: String, now: Double) { apply(lifecycle.failed(why, now: now)) }

    /// The health check passed (or the first heartbeat came).
    func markHealthy(now: Double) { apply(lifecycle.healthy(now: now)) }

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
                cgroup?.killAll()
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
            var request = try spawnRequest()
            try FileSystem.makeDirectories(FileSystem.directoryName(request.outputPath!))
            do {
                request.outputFD = try logWriter.moduleOutput(logWriterSettings)
            } catch {
                // Output still lands in the file, written by the module itself (no rotation).
                context.logger.warning(
                    "no log writer; the module appends to its log itself",
                    ["module": .string(name), "error": .string("\(error)")])
            }
            defer { if let fd = request.outputFD { close(fd) } }
            let newPID: pid_t
            if let group = moduleCgroup() {
                let spawned = try group.spawn(request)
                newPID = spawned.pid
                contained = spawned.inside
            } else {
                newPID = try Spawner.spawn(request)
                contained = false
            }
            pid = newPID
            startedWall = Clock.wall()
            startTime = ProcStat.read(newPID)?.startTime ?? 0
            healthFailures = 0
            lastHealth = nil
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

        env.append("SUPERBOT_SOCKET=\(FileSystem.absolute(settings.socketPath))")
        env.append("SUPERBOT_LOG_DIR=\(FileSystem.absolute(settings.logDirectory))")
        env.append("SUPERBOT_CONFIG_DIR=\(FileSystem.absolute(FileSystem.directoryName(settings.configFile)))")
        if let token = settings.authToken { env.append("SUPERBOT_TOKEN=\(token)") }
        for (key, value) in spec.env.sorted(by: { $0.key < $1.key }) {
            env.removeAll { $0.hasPrefix(key + "=") }
            env.append("\(key)=\(value)")
        }
        // The marker is the daemon's, after the spec's env: a module cannot pass for another.
        env.removeAll { $0.hasPrefix(ProcessMarker.moduleKey + "=") || $0.hasPrefix(ProcessMarker.runKey + "=") }
        env.append("\(ProcessMarker.moduleKey)=\(name)")
        env.append("\(ProcessMarker.runKey)=\(settings.runID)")
        let executable: String
        let argv: [String]
        if spec.shell {
            executable = "/bin/sh"
            argv = ["sh", "-c", spec.command, name] + spec.args + runArguments
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
            argv = [spec.command] + spec.args + runArguments
        }
        let cwd = spec.cwd.map { FileSystem.resolve($0, against: base) } ?? (base == "." ? nil : base)
        return SpawnRequest(
            executable: executable, arguments: argv, environment: env, workingDirectory: cwd, outputPath: logPath)
    }

    /// Signals the module's process group, plus every other process of the module: descendants
    /// that left the group (setsid) and processes that left the tree altogether (double forks),
    /// which carry the module's marker. A stop signal is followed by SIGCONT, as runit does, so a
    /// stopped (SIGSTOP) module sees it now rather than after `stop_timeout`.
    private func signalTree(_ signal: Int32) {
        guard let pid else { return }
        if signal != SIGKILL || knownTree.isEmpty {
            knownTree = members(of: pid)
        }
        kill(-pid, signal)
        kill(pid, signal)
        for member in knownTree where member.pgrp != pid && ProcStat.read(member.pid)?.startTime == member.startTime {
            kill(member.pid, signal)
        }
        guard signal != SIGKILL && signal != SIGCONT else { return }
        kill(-pid, SIGCONT)
        kill(pid, SIGCONT)
        for member in knownTree where member.pgrp != pid { kill(member.pid, SIGCONT) }
    }

    func members(of pid: pid_t) -> [ProcStat] {
        if contained, let cgroup { return cgroup.members().compactMap { $0 == pid ? nil : ProcStat.read($0) } }
        let snapshot = context.processSnapshot()
        var found = snapshot.members(of: name, main: pid)
        let known = Set(found.map(\.pid))
        for member in cgroup?.members() ?? [] where member != pid && !known.contains(member) {
            if let stat = snapshot.table.entries[member] ?? ProcStat.read(member) { found.append(stat) }
        }
        return found
    }

    /// Once the main process is gone, nothing of the module may linger: SIGKILL what is left of
    /// its tree and every process still carrying its marker.
    private func killLeftovers(of pid: pid_t) {
        kill(-pid, SIGKILL)
        for member in knownTree where ProcStat.read(member.pid)?.startTime == member.startTime {
            kill(member.pid, SIGKILL)
        }
        knownTree = []
        cgroup?.killAll()
        // During a shutdown the daemon sweeps every marked process once, at the end; a group that
        // holds every process has none outside it to search for.
        guard !context.isShuttingDown, !contained else { return }
        let escaped = context.processSnapshot().marked.filter { $0.value == name && $0.key != pid }.map(\.key)
        for member in escaped { kill(member, SIGKILL) }
        if !escaped.isEmpty {
            context.logger.warning(
                "killed module processes that had left its tree",
                ["module": .string(name), "pids": .array(escaped.map { JSON($0) })])
        }
    }
}
