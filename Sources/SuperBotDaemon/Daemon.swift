import Bus
import Glibc
import JSON
import RPC
import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit

/// The master daemon. One thread, one epoll loop: signals (signalfd), the control socket, timers,
/// pidfds of adopted modules and health probes all arrive as events, so exits are seen within
/// milliseconds and no state needs a lock.
public final class Daemon {
    public static let version = "0.1.0"

    let loop: EventLoop
    private(set) var config: DaemonConfig
    let configPath: String
    let runDirectory: String
    let socketPath: String
    let logger: Logger
    let daemonLog: JSONLinesFileSink
    var metrics = Metrics()
    var state: StateStore
    private(set) var modules: [String: ModuleRunner] = [:]
    private(set) var graph: DependencyGraph
    private(set) var server: ControlServer!
    private(set) var bus: BusRelay!
    /// Methods served by modules (`rpc.register`): method → connection.
    var registeredMethods: [String: Connection] = [:]
    var forwarded: [Int: ForwardedCall] = [:]
    var nextForwardID = 0
    private var lock: InstanceLock?
    private let signalFD: Int32
    private(set) var isShuttingDown = false
    private var finished = false
    private var startQueue: [String] = []
    private var stopQueue: [String] = []
    private var advancing = false
    private var pendingRemoval: Set<String> = []
    private var waiters: [Waiter] = []
    var followers: [LogFollower] = []
    private var followTimer: EventLoop.TimerID?
    private var watchdogTimer: EventLoop.TimerID?
    let startedWall = Clock.wall()
    let startedMono = Clock.monotonic()
    private(set) var daemonCPU: (ticks: UInt64, at: Double)?

    // MARK: Entry point

    public static func main(_ arguments: [String]) -> Int32 {
        let options: DaemonOptions
        do {
            options = try DaemonOptions.parse(arguments)
        } catch {
            printError("superbot: \(error)\n\(DaemonOptions.usage)")
            return 2
        }
        if options.help { print(DaemonOptions.usage); return 0 }
        if options.version { print("superbot \(version)"); return 0 }
        let config: DaemonConfig
        do {
            config = try DaemonConfig.load(path: options.configPath)
        } catch {
            printError("superbot: invalid configuration: \(error)")
            return 2
        }
        if options.checkOnly {
            print("\(config.file): OK (\(config.modules.count) modules, autostart: \(config.autostart.joined(separator: ", ")))")
            return 0
        }
        do {
            let daemon = try Daemon(config: config, configPath: options.configPath)
            return daemon.run()
        } catch let error as InstanceLock.AlreadyRunning {
            printError("superbot: \(error); stop it first (superbot-cli daemon stop)")
            return 4
        } catch {
            printError("superbot: cannot start: \(error)")
            return 1
        }
    }

    static func printError(_ text: String) {
        try? FileSystem.writeAll(2, Array((text + "\n").utf8))
    }

    init(config: DaemonConfig, configPath: String) throws {
        self.config = config
        self.configPath = configPath
        runDirectory = FileSystem.resolve(config.runDirectory, against: config.baseDirectory)
        socketPath = FileSystem.resolve(config.ipc.socketPath, against: config.baseDirectory)
        try FileSystem.makeDirectories(runDirectory, mode: 0o700)
        chmod(runDirectory, 0o700)
        try FileSystem.makeDirectories(FileSystem.directoryName(socketPath), mode: 0o700)
        lock = try InstanceLock(path: runDirectory + "/daemon.pid")

        let logDir = FileSystem.resolve(config.logging.directory, against: config.baseDirectory)
        daemonLog = JSONLinesFileSink(directory: logDir, prefix: "daemon", retentionDays: config.logging.retentionDays)
        var sinks: [LogSink] = [daemonLog]
        if Environment.isTerminal(2) { sinks.append(ConsoleSink()) }
        logger = Logger(label: "daemon", level: LogLevel(name: config.logging.level) ?? .info, sinks: sinks)

        signalFD = try Signals.makeSignalFD([SIGCHLD, SIGTERM, SIGINT, SIGHUP])
        Signals.ignore(SIGPIPE)
        try ProcessControl.becomeSubreaper()
        ProcessControl.raiseDescriptorLimit()
        loop = try EventLoop()
        state = StateStore(path: runDirectory + "/state.json")
        graph = DependencyGraph(config.modules)
        server = ControlServer(daemon: self, ipc: config.ipc, socketPath: socketPath)
        server.handler = { [unowned self] request, connection, reply in self.handle(request, connection, reply) }
        server.onClose = { [unowned self] connection in self.connectionClosed(connection) }
        server.onResponse = { [unowned self] connection, id, result in self.routeResponse(connection, id, result) }
        bus = BusRelay(server: server)
        server.relay = bus
        bus.observer = { [unowned self] topic in self.observePublish(topic) }
        for spec in config.modules { modules[spec.name] = ModuleRunner(spec: spec, daemon: self) }
    }

    /// Startup in DESIGN.md's order, then the loop until shutdown completes.
    func run() -> Int32 {
        do {
            try loop.register(signalFD, .readable) { [unowned self] _ in self.handleSignals() }
            try server.start()
        } catch {
            logger.error("cannot open the control socket", ["socket": .string(socketPath), "error": .string("\(error)")])
            Daemon.printError("superbot: cannot open the control socket \(socketPath): \(error)")
            lock?.release()
            return 1
        }
        logger.info("daemon starting", ["pid": JSON(getpid()), "config": .string(config.file), "socket": .string(socketPath), "version": .string(Daemon.version)])
        scheduleWatchdog(after: min(1, config.watchdog.checkInterval))
        for name in graph.startOrder() where modules[name]!.adoptIfRunning() { metrics.adopted += 1 }
        let wanted = config.autostart.filter { !state.operatorStopped.contains($0) }
        enqueueStart(Array(graph.closure(of: wanted)))
        logger.info("system.ready", ["modules": JSON(modules.count), "autostart": .array(wanted.map { .string($0) })])
        bus.publish(topic: "system.ready", ["pid": JSON(getpid()), "modules": JSON(modules.count), "version": .string(Daemon.version)])
        notifySystemd("READY=1\nSTATUS=supervising \(modules.count) modules\nMAINPID=\(getpid())")
        loop.run()
        logger.info("daemon stopped", ["uptime_seconds": JSON(Clock.monotonic() - startedMono)])
        lock?.release()
        return 0
    }

    private func notifySystemd(_ message: String) {
        guard let path = Environment.get("NOTIFY_SOCKET"), !path.isEmpty else { return }
        do {
            try Socket.sendDatagram(Array(message.utf8), toUnixPath: path)
        } catch {
            logger.warning("sd_notify failed", ["error": .string("\(error)")])
        }
    }

    // MARK: Signals and exits

    private func handleSignals() {
        for signal in Signals.read(signalFD) {
            switch signal {
            case SIGCHLD: reapChildren()
            case SIGHUP:
                logger.info("SIGHUP: reloading the configuration")
                _ = reloadConfig()
            default:
                logger.info("shutdown requested", ["signal": .string(Signals.name(signal))])
                beginShutdown()
            }
        }
    }

    /// One SIGCHLD may stand for many exits: collect them all.
    private func reapChildren() {
        for (pid, status) in Spawner.reapChildren() {
            if let runner = modules.values.first(where: { $0.pid == pid }) {
                runner.processExited(status)
            } else {
                logger.debug("reaped an orphaned descendant", ["pid": JSON(pid), "status": .string(status.description)])
            }
        }
    }

    // MARK: Module events

    /// Logs a lifecycle notice and publishes it as a `module.*` event.
    func moduleNotice(_ runner: ModuleRunner, _ notice: ModuleLifecycle.Notice) {
        let name: JSON = .string(runner.name)
        let pid = runner.pid.map { JSON($0) } ?? .null
        switch notice {
        case .started:
            if let attempt = runner.pendingRestartAttempt {
                runner.pendingRestartAttempt = nil
                bus.publish(topic: "module.restarted", ["module": name, "pid": pid, "attempt": JSON(attempt)])
            } else {
                bus.publish(topic: "module.started", ["module": name, "pid": pid])
            }
        case .running: logger.info("module running", ["module": name, "pid": pid])
        case .stopped(let why):
            logger.info("module stopped", ["module": name, "reason": .string(why)])
            bus.publish(topic: "module.stopped", ["module": name, "reason": .string(why)])
        case .crashed(let why):
            metrics.crashes += 1
            logger.warning("module crashed", ["module": name, "reason": .string(why)])
            bus.publish(topic: "module.crashed", ["module": name, "reason": .string(why)])
        case .restarting(let attempt, let delay):
            metrics.restarts += 1
            runner.pendingRestartAttempt = attempt
            if config.watchdog.alertOnRestart {
                logger.warning("module restarting", ["module": name, "attempt": JSON(attempt), "delay_seconds": JSON(delay)])
            }
        case .failed(let why):
            metrics.failed += 1
            logger.error("module.failed", ["module": name, "reason": .string(why)])
            bus.publish(topic: "module.failed", ["module": name, "reason": .string(why), "since": .string(Clock.iso8601(Clock.wall()))])
        }
    }

    /// Heartbeats are ordinary publishes on `module.<name>.heartbeat`.
    private func observePublish(_ topic: String) {
        guard topic.hasPrefix("module."), topic.hasSuffix(".heartbeat") else { return }
        let name = topic.dropFirst(7).dropLast(10)
        guard !name.contains("."), let runner = modules[String(name)] else { return }
        runner.heartbeatReceived()
    }

    /// The module a connection belongs to (its peer process is the module or in its session),
    /// else `pid:<n>` or `client`.
    func source(of connection: Connection) -> String {
        if let known = connection.source { return known }
        guard let peer = connection.peerPID else { return "client" }
        let session = ProcStat.read(peer)?.session
        let name = modules.values.first { $0.pid == peer || ($0.pid != nil && $0.pid == session) }?.name ?? "pid:\(peer)"
        connection.source = name
        return name
    }

    /// Called after every lifecycle step: moves the start/stop queues, answers waiting requests,
    /// and finishes a shutdown once no module has a process.
    func moduleStateChanged(_ runner: ModuleRunner) {
        if pendingRemoval.contains(runner.name) && !runner.state.hasProcess {
            pendingRemoval.remove(runner.name)
            modules[runner.name] = nil
            retired.append(runner)
        }
        advanceQueues()
        checkWaiters()
        if isShuttingDown && !finished && modules.values.allSatisfy({ !$0.state.hasProcess }) && stopQueue.isEmpty {
            finishShutdown()
        }
    }

    /// Runners removed by a reload stay alive here so no pending callback ever touches freed memory.
    private var retired: [ModuleRunner] = []

    func enqueueStart(_ names: [String]) {
        let order = graph.startOrder()
        for name in order where names.contains(name) && !startQueue.contains(name) {
            guard let runner = modules[name] else { continue }
            if !runner.spec.enabled {
                logger.warning("not starting a disabled module", ["module": .string(name)])
                continue
            }
            stopQueue.removeAll { $0 == name }
            startQueue.append(name)
        }
        advanceQueues()
    }

    func enqueueStop(_ names: [String]) {
        startQueue.removeAll { names.contains($0) }
        for name in graph.startOrder().reversed() where names.contains(name) && !stopQueue.contains(name) {
            stopQueue.append(name)
        }
        advanceQueues()
    }

    /// Starts queued modules whose dependencies run; stops queued modules whose dependents are gone.
    private func advanceQueues() {
        guard !advancing else { return }
        advancing = true
        defer { advancing = false }
        var progress = true
        while progress {
            progress = false
            for name in startQueue {
                guard let runner = modules[name] else {
                    startQueue.removeAll { $0 == name }
                    progress = true
                    break
                }
                let deps = graph.dependencies(of: name)
                if deps.allSatisfy({ modules[$0]?.state == .running }) {
                    startQueue.removeAll { $0 == name }
                    runner.start()
                    progress = true
                    break
                }
                if let blocker = deps.first(where: { dep in
                    let s = modules[dep]?.state ?? .stopped
                    return (s == .fatal || s == .stopped || s == .crashed) && !startQueue.contains(dep)
                }) {
                    startQueue.removeAll { $0 == name }
                    logger.error("not starting module: a dependency is down", [
                        "module": .string(name), "dependency": .string(blocker), "state": .string(modules[blocker]?.state.rawValue ?? "missing"),
                    ])
                    progress = true
                    break
                }
            }
            if progress { continue }
            for name in stopQueue {
                // Wait for dependents that are going down too; a targeted stop leaves the others alone.
                let blocking = graph.dependents(of: name).filter { dependent in
                    guard let runner = modules[dependent], runner.state.hasProcess else { return false }
                    return isShuttingDown || stopQueue.contains(dependent) || runner.state == .stopping
                }
                if blocking.isEmpty {
                    stopQueue.removeAll { $0 == name }
                    modules[name]?.stop()
                    progress = true
                    break
                }
            }
        }
    }

    func isQueued(_ name: String) -> Bool { startQueue.contains(name) || stopQueue.contains(name) }

    // MARK: Waiting for modules to settle

    final class Waiter {
        let condition: () -> Bool
        let done: () -> Void
        var timer: EventLoop.TimerID?
        init(condition: @escaping () -> Bool, done: @escaping () -> Void) {
            self.condition = condition
            self.done = done
        }
    }

    /// Calls `done` once `condition` holds (re-checked after every module change), or `timedOut` after `timeout`.
    func wait(until condition: @escaping () -> Bool, timeout: Double, then done: @escaping () -> Void, timedOut: @escaping () -> Void) {
        if condition() { return done() }
        let waiter = Waiter(condition: condition, done: done)
        waiter.timer = loop.schedule(after: timeout) { [unowned self, unowned waiter] in
            self.waiters.removeAll { $0 === waiter }
            timedOut()
        }
        waiters.append(waiter)
    }

    private func checkWaiters() {
        let ready = waiters.filter { $0.condition() }
        guard !ready.isEmpty else { return }
        waiters.removeAll { waiter in ready.contains { $0 === waiter } }
        for waiter in ready {
            loop.cancel(waiter.timer)
            waiter.done()
        }
    }

    // MARK: Shutdown

    func beginShutdown() {
        if isShuttingDown {
            logger.warning("second shutdown request: killing all modules now")
            for runner in modules.values { runner.forceKill() }
            return
        }
        isShuttingDown = true
        logger.info("system.shutdown", ["modules": JSON(modules.values.filter { $0.state.hasProcess }.count)])
        bus.publish(topic: "system.shutdown", ["pid": JSON(getpid())])
        loop.cancel(watchdogTimer)
        startQueue = []
        for runner in modules.values where !runner.state.hasProcess { runner.stop() }
        enqueueStop(modules.values.filter { $0.state.hasProcess }.map(\.name))
        if modules.values.allSatisfy({ !$0.state.hasProcess }) && !finished { finishShutdown() }
    }

    private func finishShutdown() {
        finished = true
        for waiter in waiters { loop.cancel(waiter.timer) }
        waiters = []
        loop.cancel(followTimer)
        server.shutdown()
        loop.stop()
    }

    // MARK: Reload

    /// Loads the config again; a bad file is refused and the running config kept. A good one is
    /// applied as a diff: changed modules restart, added ones start (if autostart), removed ones stop.
    func reloadConfig() -> Result<JSON, RPCError> {
        let new: DaemonConfig
        do {
            new = try DaemonConfig.load(path: configPath)
        } catch {
            logger.error("config.reload_failed", ["error": .string("\(error)")])
            bus.publish(topic: "config.reload_failed", ["error": .string("\(error)")])
            return .failure(.failed("config reload refused; the running configuration is kept: \(error)"))
        }
        var changed: [String] = [], added: [String] = [], removed: [String] = []
        if new.ipc != config.ipc || new.runDirectory != config.runDirectory {
            logger.warning("ipc and run_dir changes take effect when the daemon restarts")
        }
        var applied = new
        applied.ipc = config.ipc
        applied.runDirectory = config.runDirectory
        let oldNames = Set(modules.keys)
        config = applied
        graph = DependencyGraph(applied.modules + modules.values.filter { applied.module($0.name) == nil }.map(\.spec))
        var toStart: [String] = []
        for spec in applied.modules {
            if let runner = modules[spec.name] {
                guard runner.spec != spec else { continue }
                changed.append(spec.name)
                if !spec.enabled {
                    runner.update(spec: spec)
                    enqueueStop([spec.name])
                } else {
                    runner.update(spec: spec)
                }
            } else {
                modules[spec.name] = ModuleRunner(spec: spec, daemon: self)
                added.append(spec.name)
                if applied.autostart.contains(spec.name) && !state.operatorStopped.contains(spec.name) { toStart.append(spec.name) }
            }
        }
        for name in oldNames where applied.module(name) == nil {
            removed.append(name)
            pendingRemoval.insert(name)
        }
        enqueueStop(removed)
        for name in removed where !(modules[name]?.state.hasProcess ?? false) {
            modules[name].map { retired.append($0) }
            modules[name] = nil
            pendingRemoval.remove(name)
        }
        enqueueStart(Array(graph.closure(of: toStart)))
        scheduleWatchdog(after: config.watchdog.checkInterval)
        let result: JSON = [
            "changed": .array(changed.sorted().map { .string($0) }), "added": .array(added.sorted().map { .string($0) }),
            "removed": .array(removed.sorted().map { .string($0) }),
        ]
        logger.info("config.reloaded", ["diff": result])
        bus.publish(topic: "config.reloaded", result)
        return .success(result)
    }

    // MARK: Watchdog

    private func scheduleWatchdog(after delay: Double) {
        loop.cancel(watchdogTimer)
        guard config.watchdog.enabled, !isShuttingDown else { return }
        watchdogTimer = loop.schedule(after: delay) { [unowned self] in
            self.watchdogPass()
            self.scheduleWatchdog(after: self.config.watchdog.checkInterval)
        }
    }

    /// One pass over /proc for every module's tree: resources, stopped processes, memory limits.
    func watchdogPass() {
        metrics.watchdogChecks += 1
        let table = ProcessTable.scan()
        let now = Clock.monotonic()
        for runner in modules.values where runner.pid != nil { runner.sample(table, now: now) }
    }

    // MARK: Log following

    func addFollower(_ follower: LogFollower) {
        followers.append(follower)
        follower.connection.streams += 1
        if followTimer == nil { scheduleFollowPoll() }
    }

    private func scheduleFollowPoll() {
        followTimer = loop.schedule(after: 0.1) { [unowned self] in
            self.followTimer = nil
            for follower in self.followers {
                let lines = follower.poll()
                for line in lines {
                    self.server.send(RPCResponse.notification("logs.line", ["name": .string(follower.name), "line": .string(line)]), to: follower.connection)
                }
            }
            if !self.followers.isEmpty { self.scheduleFollowPoll() }
        }
    }

    private func connectionClosed(_ connection: Connection) {
        followers.removeAll { $0.connection === connection }
        bus.connectionClosed(connection)
        unregisterMethods(of: connection)
    }

    // MARK: Daemon figures

    func daemonResources() -> JSON {
        let pid = getpid()
        guard let stat = ProcStat.read(pid) else { return ["pid": JSON(pid)] }
        let now = Clock.monotonic()
        var cpu = 0.0
        if let last = daemonCPU, now > last.at { cpu = Double(stat.cpuTicks - last.ticks) / Double(ProcStat.clockTicks) / (now - last.at) * 100 }
        daemonCPU = (stat.cpuTicks, now)
        return [
            "pid": JSON(pid), "rss_bytes": JSON(stat.rssBytes), "threads": JSON(stat.threads),
            "open_files": JSON(ProcStat.openFileCount(pid)), "cpu_percent": JSON((cpu * 10).rounded() / 10),
            "cpu_seconds_total": JSON(Double(stat.cpuTicks) / Double(ProcStat.clockTicks)),
            "connections": JSON(server.connections.count),
        ]
    }
}

extension ModuleRunner {
    /// SIGKILL to the whole tree right away (a second Ctrl-C during shutdown).
    func forceKill() { if pid != nil { apply([.killGroup]) } }
}
