import JSON
import SystemKit
import YAML

/// `config/daemon.yaml`, typed and validated. Paths are resolved against `baseDirectory`
/// (the parent of the config directory), so the daemon behaves the same from any working directory.
public struct DaemonConfig: Equatable, Sendable {
    public struct IPC: Equatable, Sendable {
        public var socketPath: String
        public var authToken: String?
        public var tcpEnabled: Bool
        public var tcpHost: String
        public var tcpPort: Int
        public var maxMessageBytes: Int
        public var maxConnections: Int
        /// A connection that sends nothing for this long (and follows nothing) is closed.
        public var idleTimeout: Double
        /// How long a request routed to a module (`rpc.register`) may take.
        public var requestTimeout: Double
        /// Bus messages queued per subscriber beyond what its socket takes; the oldest are dropped past this.
        public var subscriberQueue: Int
        public var subscriberQueueBytes: Int
        /// Output queued for all clients together; past it the connections holding most are cut.
        public var maxQueuedBytes: Int
    }

    public struct Watchdog: Equatable, Sendable {
        public var enabled: Bool
        public var checkInterval: Double
        public var autoRestartOnCrash: Bool
        public var alertOnRestart: Bool
    }

    public struct Logging: Equatable, Sendable {
        public var level: String
        public var directory: String
        public var retentionDays: Int
    }

    public var file: String
    public var baseDirectory: String
    public var runDirectory: String
    public var modules: [ModuleSpec]
    public var autostart: [String]
    public var ipc: IPC
    public var watchdog: Watchdog
    public var logging: Logging
    public var schedule: ScheduleConfig
    public var document: JSON

    public func module(_ name: String) -> ModuleSpec? { modules.first { $0.name == name } }

    /// Dotted access into the file, e.g. `get("watchdog.check_interval")` (the `daemon.` prefix is optional).
    public func get(_ path: String) -> JSON? {
        ConfigDocument.lookup(document, path) ?? ConfigDocument.lookup(document, "daemon." + path)
    }

    public static let moduleKeys = [
        "enabled", "type", "command", "args", "shell", "env", "cwd", "depends_on", "host", "port",
        "healthcheck_endpoint", "healthcheck", "start_seconds", "stop_signal", "stop_timeout", "restart",
        "restart_delay", "restart_cooldown", "max_restart_attempts", "restart_window", "reset_after",
        "max_rss_mb", "log_file", "log_max_bytes", "log_keep", "log_timestamps",
    ]
    static let watchdogKeys = [
        "enabled", "check_interval", "auto_restart_on_crash", "max_restart_attempts", "restart_cooldown",
        "alert_on_restart", "restart_delay", "restart_window", "reset_after",
    ]

    /// Loads `daemon.yaml` from a config directory (or the file itself).
    public static func load(path: String) throws -> DaemonConfig {
        let (file, root) = try ConfigDocument.load(path, defaultName: "daemon.yaml")
        return try parse(root, file: file, baseDirectory: ConfigDocument.baseDirectory(of: file))
    }

    public static func parse(_ text: String, file: String, baseDirectory: String) throws -> DaemonConfig {
        try parse(try ConfigDocument.parse(text, file: file), file: file, baseDirectory: baseDirectory)
    }

    static func parse(_ root: YAMLNode, file: String, baseDirectory: String) throws -> DaemonConfig {
        let top = try MappingReader(root, file: file, path: "(top level)", allowed: ["daemon"])
        guard let daemonNode = top.value("daemon") else {
            throw ConfigError(file, root, "missing the top-level 'daemon:' mapping")
        }
        let d = try MappingReader(
            daemonNode, file: file, path: "daemon",
            allowed: ["modules", "autostart", "ipc", "watchdog", "logging", "run_dir", "schedule"])

        let w = try d.child("watchdog", allowed: watchdogKeys)
        let watchdog = Watchdog(
            enabled: try w.bool("enabled", default: true),
            checkInterval: try w.seconds("check_interval", default: 30, minimum: 0.05),
            autoRestartOnCrash: try w.bool("auto_restart_on_crash", default: true),
            alertOnRestart: try w.bool("alert_on_restart", default: true))
        let policyDefaults = PolicyDefaults(
            restartDelay: try w.seconds("restart_delay", default: 0.5),
            restartCooldown: try w.seconds("restart_cooldown", default: 60),
            maxRestartAttempts: try w.int("max_restart_attempts", default: 3, range: 0...10_000),
            restartWindow: try w.seconds("restart_window", default: 300),
            resetAfter: try w.seconds("reset_after", default: 600))

        let i = try d.child(
            "ipc",
            allowed: [
                "socket_path", "auth_token", "tcp", "max_message_bytes", "max_connections", "idle_timeout",
                "request_timeout",
                "subscriber_queue", "subscriber_queue_mb", "max_queued_mb",
            ])
        let t = try i.child("tcp", allowed: ["enabled", "host", "port"])
        let ipc = IPC(
            socketPath: try i.string("socket_path", default: ".superbot/superbot.sock"),
            authToken: try i.optionalString("auth_token"),
            tcpEnabled: try t.bool("enabled", default: false),
            tcpHost: try t.string("host", default: "127.0.0.1"),
            tcpPort: try t.int("port", default: 9999, range: 1...65535),
            maxMessageBytes: try i.int("max_message_bytes", default: 1 << 20, range: 1024...(64 << 20)),
            maxConnections: try i.int("max_connections", default: 1024, range: 1...100_000),
            idleTimeout: try i.seconds("idle_timeout", default: 300, minimum: 0.1),
            requestTimeout: try i.seconds("request_timeout", default: 10, minimum: 0.01),
            subscriberQueue: try i.int("subscriber_queue", default: 10_000, range: 1...10_000_000),
            subscriberQueueBytes: try i.int("subscriber_queue_mb", default: 64, range: 1...4096) << 20,
            maxQueuedBytes: try i.int("max_queued_mb", default: 512, range: 1...65_536) << 20)
        if ipc.tcpEnabled {
            guard ipc.authToken?.isEmpty == false else {
                throw i.error(
                    "tcp", "is enabled without 'daemon.ipc.auth_token'; the TCP socket refuses to start without a token"
                )
            }
            guard ipc.tcpHost == "127.0.0.1" || ipc.tcpHost == "localhost" else {
                throw t.error("host", "must be 127.0.0.1 (the TCP fallback binds loopback only), got '\(ipc.tcpHost)'")
            }
        }

        let l = try d.child("logging", allowed: ["level", "dir", "retention_days"])
        let logging = Logging(
            level: try l.oneOf("level", ["debug", "info", "warning", "error"], default: "info"),
            directory: try l.string("dir", default: "logs"),
            retentionDays: try l.int("retention_days", default: 14, range: 1...3650))

        var modules: [ModuleSpec] = []
        if let modulesNode = d.value("modules") {
            guard let pairs = modulesNode.mapping else {
                throw ConfigError(file, modulesNode, "'daemon.modules' must be a mapping of module names")
            }
            for pair in pairs {
                let name = pair.key.scalarText ?? ""
                guard isValidName(name) else {
                    throw ConfigError(
                        file, pair.key,
                        "module name '\(name)' must be letters, digits, '-' or '_' (it names files and bus topics)")
                }
                modules.append(
                    try parseModule(name, pair.value, file: file, logDir: logging.directory, defaults: policyDefaults))
            }
        }
        let autostart = try d.stringList("autostart")
        let names = modules.map(\.name)
        for (index, name) in autostart.enumerated() where !names.contains(name) {
            let node = d.value("autostart")?.sequence?[index] ?? daemonNode
            let hint = suggestion(for: name, in: names).map { "; did you mean '\($0)'?" } ?? ""
            throw ConfigError(file, node, "autostart names unknown module '\(name)'\(hint)")
        }
        for module in modules {
            for dep in module.dependsOn where !names.contains(dep) {
                let node = d.value("modules")?[module.name]?["depends_on"] ?? daemonNode
                throw ConfigError(file, node, "module '\(module.name)' depends on unknown module '\(dep)'")
            }
        }
        if let cycle = DependencyGraph(modules).cycle() {
            let node = d.value("modules")?[cycle[0]]?["depends_on"] ?? daemonNode
            throw ConfigError(
                file, node, "dependency cycle: \(cycle.joined(separator: " → ")); remove one depends_on entry")
        }
        let schedule = try ScheduleConfig.parse(
            try d.child("schedule", allowed: ScheduleConfig.keys), modules: modules)
        return DaemonConfig(
            file: file, baseDirectory: baseDirectory, runDirectory: try d.string("run_dir", default: ".superbot"),
            modules: modules, autostart: autostart, ipc: ipc, watchdog: watchdog, logging: logging,
            schedule: schedule, document: ConfigDocument.json(root))
    }

    struct PolicyDefaults {
        var restartDelay, restartCooldown: Double
        var maxRestartAttempts: Int
        var restartWindow, resetAfter: Double
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func parseModule(_ name: String, _ node: YAMLNode, file: String, logDir: String, defaults: PolicyDefaults)
        throws -> ModuleSpec
    {
        let m = try MappingReader(node, file: file, path: "daemon.modules.\(name)", allowed: moduleKeys)
        guard let command = try m.optionalString("command"), !command.isEmpty else {
            throw ConfigError(file, node, "module '\(name)' needs a 'command' (an executable name or path)")
        }
        let kind = ModuleSpec.Kind(rawValue: try m.oneOf("type", ["executable", "command"], default: "executable"))!
        let stopSignalText = try m.string("stop_signal", default: "TERM")
        guard let stopSignal = Signals.number(stopSignalText) else {
            throw m.error("stop_signal", "must be a signal name like TERM, INT, QUIT or HUP, got '\(stopSignalText)'")
        }
        var http: ModuleSpec.HTTPCheck?
        let host = try m.string("host", default: "127.0.0.1")
        let port = try m.optionalInt("port", range: 1...65535)
        if let endpoint = try m.optionalString("healthcheck_endpoint") {
            guard let port else { throw m.error("healthcheck_endpoint", "needs 'port' to be set as well") }
            http = .init(host: host, port: port, path: endpoint, timeout: 5, interval: 10, failures: 3)
        }
        var heartbeat: Double?
        if m.has("healthcheck") {
            let h = try m.child("healthcheck", allowed: ["http", "heartbeat"])
            if h.has("heartbeat") {
                let b = try h.child("heartbeat", allowed: ["timeout"])
                heartbeat = try b.seconds("timeout", default: 30, minimum: 0.05)
            }
            if h.has("http") {
                let x = try h.child("http", allowed: ["host", "port", "path", "timeout", "interval", "failures"])
                guard let checkPort = try x.optionalInt("port", range: 1...65535) ?? port else {
                    throw x.error("port", "is required (or set the module's 'port')")
                }
                http = .init(
                    host: try x.string("host", default: host), port: checkPort,
                    path: try x.string("path", default: "/health"),
                    timeout: try x.seconds("timeout", default: 5, minimum: 0.01),
                    interval: try x.seconds("interval", default: 10, minimum: 0.05),
                    failures: try x.int("failures", default: 3, range: 1...1000))
            }
        }
        if let check = http, check.host != "127.0.0.1" && check.host != "localhost" {
            throw m.error("host", "health checks reach loopback only (127.0.0.1), got '\(check.host)'")
        }
        let spec = ModuleSpec(
            name: name,
            enabled: try m.bool("enabled", default: true),
            kind: kind,
            command: command,
            args: try m.stringList("args"),
            shell: try m.bool("shell", default: false),
            env: try m.stringMap("env"),
            cwd: try m.optionalString("cwd"),
            dependsOn: try m.stringList("depends_on"),
            httpCheck: http,
            heartbeatTimeout: heartbeat,
            startSeconds: try m.seconds("start_seconds", default: 1),
            stopSignal: stopSignal,
            stopTimeout: try m.seconds("stop_timeout", default: 10),
            restart: ModuleSpec.RestartMode(
                rawValue: try m.oneOf("restart", ["always", "on-failure", "never"], default: "always"))!,
            restartDelay: try m.seconds("restart_delay", default: defaults.restartDelay),
            restartCooldown: try m.seconds("restart_cooldown", default: defaults.restartCooldown),
            maxRestartAttempts: try m.int(
                "max_restart_attempts", default: defaults.maxRestartAttempts, range: 0...10_000),
            restartWindow: try m.seconds("restart_window", default: defaults.restartWindow),
            resetAfter: try m.seconds("reset_after", default: defaults.resetAfter),
            maxRSSMB: try m.optionalInt("max_rss_mb", range: 1...1_000_000),
            logFile: try m.string("log_file", default: "\(logDir)/\(name).log"),
            logMaxBytes: try m.int("log_max_bytes", default: 10 << 20, range: 0...(1 << 40)),
            logKeep: try m.int("log_keep", default: 5, range: 1...1000),
            logTimestamps: try m.bool("log_timestamps", default: false))
        if spec.dependsOn.contains(name) { throw m.error("depends_on", "lists the module itself") }
        return spec
    }
}
