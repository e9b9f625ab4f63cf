/// One supervised module, as configured. Equality decides what a reload restarts.
public struct ModuleSpec: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// One of our binaries: resolved next to the daemon binary first.
        case executable
        /// Any program: resolved as a path or on `$PATH`.
        case command
    }

    public enum RestartMode: String, Sendable {
        case always
        case onFailure = "on-failure"
        case never
    }

    public struct HTTPCheck: Equatable, Sendable {
        public var host: String
        public var port: Int
        public var path: String
        public var timeout: Double
        public var interval: Double
        public var failures: Int
    }

    public var name: String
    public var enabled: Bool
    public var kind: Kind
    public var command: String
    public var args: [String]
    /// Run `command` through `/bin/sh -c` (only when asked for).
    public var shell: Bool
    public var env: [String: String]
    public var cwd: String?
    public var dependsOn: [String]
    public var httpCheck: HTTPCheck?
    /// The module must publish `module.<name>.heartbeat` at least this often (seconds).
    public var heartbeatTimeout: Double?
    public var startSeconds: Double
    public var stopSignal: Int32
    public var stopTimeout: Double
    public var restart: RestartMode
    public var restartDelay: Double
    public var restartCooldown: Double
    public var maxRestartAttempts: Int
    public var restartWindow: Double
    public var resetAfter: Double
    public var maxRSSMB: Int?
    /// Where stdout/stderr are appended (absolute or relative to the base directory).
    public var logFile: String
    /// The log writer rotates `logFile` past this many bytes (0 never), keeping `logKeep` old files.
    public var logMaxBytes: Int
    public var logKeep: Int
    /// Prefix each output line with its arrival time.
    public var logTimestamps: Bool
}
