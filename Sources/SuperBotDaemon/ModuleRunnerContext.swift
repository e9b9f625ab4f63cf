import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit

/// What a `ModuleRunner` needs from the daemon, and no more: the loop and log it runs on, where
/// its files and its module's environment come from, and whom to tell about changes.
protocol ModuleRunnerContext: AnyObject {
    var loop: EventLoop { get }
    var logger: Logger { get }
    /// Read at each use, so a reload's new values apply to the next spawn.
    var moduleSettings: ModuleSettings { get }
    /// During a shutdown no new process is started.
    var isShuttingDown: Bool { get }
    func isOperatorStopped(_ module: String) -> Bool
    func count(_ event: ModuleRunner.CountedEvent)
    /// A lifecycle notice to log and publish (`module.*`).
    func runner(_ runner: ModuleRunner, noticed notice: ModuleLifecycle.Notice)
    /// Called after every lifecycle step (the start/stop queue moves on it).
    func runnerChanged(_ runner: ModuleRunner)
    /// `/proc` as of this loop turn (taken at most once per turn).
    func processSnapshot() -> ProcessSnapshot
}

/// The daemon-wide settings a module's process and files are derived from.
struct ModuleSettings {
    var baseDirectory: String
    var runDirectory: String
    var socketPath: String
    var logDirectory: String
    var configFile: String
    var authToken: String?
    var watchdog: DaemonConfig.Watchdog
    /// This run directory's id, in every module process's environment (`ProcessMarker`).
    var runID: String
    /// Whether modules get cgroups of their own (the machine allows it; decided at daemon start).
    var useCgroups: Bool = false
    /// Rotated module logs older than this are removed (`logging.retention_days`).
    var retentionDays: Int = 14
}

extension Daemon: ModuleRunnerContext {
    var moduleSettings: ModuleSettings {
        ModuleSettings(
            baseDirectory: config.baseDirectory, runDirectory: runDirectory, socketPath: socketPath,
            logDirectory: FileSystem.resolve(config.logging.directory, against: config.baseDirectory),
            configFile: config.file,
            authToken: config.ipc.authToken, watchdog: config.watchdog, runID: runID, useCgroups: useCgroups,
            retentionDays: config.logging.retentionDays)
    }

    func isOperatorStopped(_ module: String) -> Bool { state.operatorStopped.contains(module) }

    func count(_ event: ModuleRunner.CountedEvent) {
        switch event {
        case .spawn: metrics.spawns += 1
        case .spawnFailure: metrics.spawnFailures += 1
        case .healthCheckFailure: metrics.healthCheckFailures += 1
        }
    }

    func runner(_ runner: ModuleRunner, noticed notice: ModuleLifecycle.Notice) { moduleNotice(runner, notice) }

    func runnerChanged(_ runner: ModuleRunner) { moduleStateChanged(runner) }

    func processSnapshot() -> ProcessSnapshot {
        if let cached = snapshotCache, cached.turn == loop.turn { return cached.snapshot }
        let snapshot = ProcessSnapshot.take(runID: runID)
        snapshotCache = (loop.turn, snapshot)
        return snapshot
    }
}
