import Glibc
import JSON
import RPC
import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit

/// Module lifecycle notices as log lines and `module.*` events; heartbeats; who a connection is.
extension Daemon {
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
                logger.warning(
                    "module restarting", ["module": name, "attempt": JSON(attempt), "delay_seconds": JSON(delay)])
            }
        case .failed(let why):
            metrics.failed += 1
            logger.error("module.failed", ["module": name, "reason": .string(why)])
            bus.publish(
                topic: "module.failed",
                ["module": name, "reason": .string(why), "since": .string(Clock.iso8601(Clock.wall()))])
        }
    }

    /// Heartbeats are ordinary publishes on `module.<name>.heartbeat`.
    func observePublish(_ topic: String) {
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
        let name =
            modules.values.first { $0.pid == peer || ($0.pid != nil && $0.pid == session) }?.name ?? "pid:\(peer)"
        connection.source = name
        return name
    }
}
