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
    var probe: HealthProbe?
    /// Descendants seen at the last watchdog pass or stop, so ones that left the group die with the module.
    var knownTree: [ProcStat] = []
    var cpuSample: (ticks: UInt64, at: Double)?
    var resources = ModuleResources()
    var stoppedStateReported = false
    /// Set while a crash restart is pending, so the next start is announced as `module.restarted`.
    var pendingRestartAttempt: Int?
    var lastHeartbeat = 0.0
    var heartbeatTimer: EventLoop.TimerID?
    /// Arguments after the configured ones for the next spawns: a scheduled run-once job's (`run`).
    var runArguments: [String] = []

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
}
