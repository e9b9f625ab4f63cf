/// The numbers that govern restarts, per module.
public struct RestartPolicy: Equatable, Sendable {
    public enum Mode: Sendable, Equatable {
        case always, onFailure, never
    }

    public var mode: Mode
    /// Off means a crash leaves the module `crashed` (watchdog.auto_restart_on_crash: false).
    public var autoRestart: Bool
    public var restartDelay: Double
    /// The cap the doubling delay grows to.
    public var restartCooldown: Double
    public var maxAttempts: Int
    public var window: Double
    public var resetAfter: Double
    public var startSeconds: Double
    public var stopSignal: Int32
    public var stopTimeout: Double
    /// With a health check, `starting` becomes `running` on the first pass, not after `startSeconds`.
    public var waitsForHealthCheck: Bool

    public init(
        mode: Mode = .always, autoRestart: Bool = true, restartDelay: Double = 0.5, restartCooldown: Double = 60,
        maxAttempts: Int = 3, window: Double = 300, resetAfter: Double = 600, startSeconds: Double = 1,
        stopSignal: Int32 = 15, stopTimeout: Double = 10, waitsForHealthCheck: Bool = false
    ) {
        self.mode = mode
        self.autoRestart = autoRestart
        self.restartDelay = restartDelay
        self.restartCooldown = restartCooldown
        self.maxAttempts = maxAttempts
        self.window = window
        self.resetAfter = resetAfter
        self.startSeconds = startSeconds
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
        self.waitsForHealthCheck = waitsForHealthCheck
    }
}
