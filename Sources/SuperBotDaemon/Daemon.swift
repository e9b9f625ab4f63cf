import Bus
import Cache
import Glibc
import JSON
import RPC
import Schedule
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
    var config: DaemonConfig
    /// `infrastructure.yaml`: the cache's bounds and the backends.
    var infrastructure: InfrastructureConfig
    /// The cache modules share (`cache.*`); with the Redis backend, the copy served while Redis is down.
    var cache: CacheStore
    /// The cache's Redis side, when `infrastructure.cache.backend` is `redis`.
    var cacheRemote: RedisCacheRemote?
    var cacheRedis = CacheRedisFigures()
    let configPath: String
    let runDirectory: String
    /// Marks every module process as this run directory's (`ProcessMarker`), kept in `run-id`.
    let runID: String
    let socketPath: String
    let logger: Logger
    let daemonLog: JSONLinesFileSink
    var metrics = Metrics()
    var state: StateStore
    var modules: [String: ModuleRunner] = [:]
    var graph: DependencyGraph
    private(set) var server: ControlServer!
    private(set) var bus: BusRelay!
    /// The bus across hosts, when `infrastructure.bus.backend` is `redis`.
    private(set) var bridge: RedisBusBridge?
    /// The daemon's own methods, one namespace per file (`Daemon+*Methods.swift`).
    private(set) var methodTable = MethodTable([])
    /// Methods served by modules (`rpc.register`): method → connection.
    var registeredMethods: [String: Connection] = [:]
    /// Log families modules declared (`rpc.register` with `logs`), by the key that selects a file.
    var declaredLogs: [String: DeclaredLog] = [:]
    var forwarded: [Int: ForwardedCall] = [:]
    var nextForwardID = 0
    var lock: InstanceLock?
    let signalFD: Int32
    var isShuttingDown = false
    var finished = false
    /// Clients that asked for `daemon.stop`: told at the end what, if anything, had to be killed.
    var stopRequesters: [Connection] = []
    /// Starts and stops in dependency order, and requests waiting for them (`Daemon+Queue`).
    var queue = ModuleQueue()
    var advancing = false
    var waiters: [ModuleQueue.WaiterID: (done: () -> Void, timedOut: () -> Void)] = [:]
    var waiterTimer: EventLoop.TimerID?
    /// Modules a reload removed, freed once their process is gone.
    var pendingRemoval: Set<String> = []
    var followers: [LogFollower] = []
    var followTimer: EventLoop.TimerID?
    var watchdogTimer: EventLoop.TimerID?
    let startedWall = Clock.wall()
    let startedMono = Clock.monotonic()
    var daemonCPU: (ticks: UInt64, at: Double)?
    /// Cron jobs and trading hours (`Daemon+Scheduler`).
    var scheduler = SchedulerCore(jobs: [], lastFires: [:], window: nil, now: 0)
    var wallTimer: WallTimer?
    /// Job runs in progress, by the module they run.
    var jobRuns: [String: JobRun] = [:]
    /// Modules started by `module.start` with `params`, and whether their process has appeared:
    /// the arguments last for that run only.
    var paramRuns: [String: Bool] = [:]
    var snapshotCache: (turn: UInt64, snapshot: ProcessSnapshot)?
    /// Modules get cgroups (v1 pids + freezer) when a probe group could be made at start.
    var useCgroups = false

    init(config: DaemonConfig, infrastructure: InfrastructureConfig = InfrastructureConfig(), configPath: String) throws
    {
        self.config = config
        self.infrastructure = infrastructure
        cache = CacheStore(maxEntries: infrastructure.cache.maxEntries, maxBytes: infrastructure.cache.maxBytes)
        self.configPath = configPath
        runDirectory = FileSystem.resolve(config.runDirectory, against: config.baseDirectory)
        socketPath = FileSystem.resolve(config.ipc.socketPath, against: config.baseDirectory)
        try FileSystem.makeDirectories(runDirectory, mode: 0o700)
        chmod(runDirectory, 0o700)
        try FileSystem.makeDirectories(FileSystem.directoryName(socketPath), mode: 0o700)
        lock = try InstanceLock(path: runDirectory + "/daemon.pid")
        runID = try Daemon.loadRunID(runDirectory + "/run-id")

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
        server = ControlServer(context: self, loop: loop, logger: logger, ipc: config.ipc, socketPath: socketPath)
        if infrastructure.cache.backend == .redis {
            cacheRemote = try RedisCacheRemote(
                url: infrastructure.redis.url, timeout: infrastructure.redis.timeout,
                prefix: infrastructure.redis.prefix,
                loop: loop)
        }
        if infrastructure.bus == .redis {
            let bridge = try makeBridge(infrastructure)
            self.bridge = bridge
            bus = BusRelay(backend: bridge)
            bridge.relay = bus
        } else {
            bus = BusRelay(backend: server)
        }
        server.relay = bus
        bus.observer = { [unowned self] topic in self.observePublish(topic) }
        for spec in config.modules { modules[spec.name] = ModuleRunner(spec: spec, context: self) }
        methodTable = makeMethodTable()
    }

    /// Startup in DESIGN.md's order, then the loop until shutdown completes.
    func run() -> Int32 {
        do {
            try loop.register(signalFD, .readable) { [unowned self] _ in self.handleSignals() }
            try server.start()
        } catch {
            logger.error(
                "cannot open the control socket", ["socket": .string(socketPath), "error": .string("\(error)")])
            Daemon.printError("superbot: cannot open the control socket \(socketPath): \(error)")
            lock?.release()
            return 1
        }
        logger.info(
            "daemon starting",
            [
                "pid": JSON(getpid()), "config": .string(config.file), "socket": .string(socketPath),
                "version": .string(Daemon.version),
            ])
        if let bridge { start(bridge) }
        if let problem = state.loadProblem {
            logger.error("alert.state", ["error": .string(problem)])
            bus.publish(topic: "alert.state", ["error": .string(problem), "file": .string(state.path)])
        }
        scheduleWatchdog(after: min(1, config.watchdog.checkInterval))
        ModuleCgroup.removeEmptyLeftovers()
        let probe = ModuleCgroup.make(runID: runID, module: "probe")
        probe?.remove()
        useCgroups = probe != nil
        if let probe {
            logger.info(
                "modules run in cgroups of their own",
                [
                    "cgroup_root": .string(FileSystem.directoryName(probe.path)),
                    "cgroup_version": .string(probe.kind == .unified ? "v2" : "v1"),
                ])
        } else {
            logger.info("no cgroups available; module processes are found by marker")
        }
        for name in graph.startOrder() where modules[name]!.adoptIfRunning() { metrics.adopted += 1 }
        let closed = closedByTradingHours(now: Daemon.now())
        let wanted = config.autostart.filter { !state.operatorStopped.contains($0) && !closed.contains($0) }
        enqueueStart(Array(graph.closure(of: wanted)))
        startScheduler()
        logger.info("system.ready", ["modules": JSON(modules.count), "autostart": .array(wanted.map { .string($0) })])
        bus.publish(
            topic: "system.ready",
            ["pid": JSON(getpid()), "modules": JSON(modules.count), "version": .string(Daemon.version)])
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
}

extension Daemon {
    /// The run directory's id: made once, kept for every later daemon on the same directory, so a
    /// new daemon recognises the processes of the one before.
    static func loadRunID(_ path: String) throws -> String {
        if let text = try? FileSystem.readString(path), let id = text.split(separator: "\n").first,
            id.count == 16, id.allSatisfy(\.isHexDigit)
        {
            return String(id)
        }
        let hex = String(UInt64.random(in: 1...UInt64.max), radix: 16)
        let id = String(repeating: "0", count: 16 - hex.count) + hex
        try FileSystem.writeAtomically(path, Array((id + "\n").utf8))
        return id
    }
}

extension Daemon: ControlServerContext {
    func requiresAuth(_ method: String) -> Bool { methodTable.requiresAuth(method) }
}

/// The bus backend: the control server alone, or the Redis bridge in front of it.
extension Daemon {
    func makeBridge(_ infrastructure: InfrastructureConfig) throws -> RedisBusBridge {
        try RedisBusBridge(
            server: server, loop: loop, url: infrastructure.redis.url, prefix: infrastructure.redis.prefix,
            origin: RedisBusBridge.newOrigin())
    }

    func start(_ bridge: RedisBusBridge) {
        bridge.onState = { [unowned self] down in self.redisStateChanged(down) }
        bridge.start()
    }

    /// A reload changed `infrastructure.bus` or the Redis it uses: the relay gets its new backend
    /// first, then the old bridge's threads stop (within half a second; what they still receive
    /// is dropped). Local delivery never pauses.
    func switchBus(to infrastructure: InfrastructureConfig) throws {
        let old = bridge
        if infrastructure.bus == .redis {
            let new = try makeBridge(infrastructure)
            new.relay = bus
            bus.backend = new
            bridge = new
            start(new)
        } else {
            bus.backend = server
            bridge = nil
        }
        old?.relay = nil
        old?.stop()
        logger.info(
            "bus backend switched",
            [
                "backend": .string(infrastructure.bus == .redis ? "redis" : "memory"),
                "url": .string(infrastructure.redis.url.description),
            ])
    }
}
