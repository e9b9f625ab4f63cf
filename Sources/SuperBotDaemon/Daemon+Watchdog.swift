import Glibc
import JSON
import RPC
import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit

/// The watchdog pass over /proc, and the daemon's own figures.
extension Daemon {
    func scheduleWatchdog(after delay: Double) {
        loop.cancel(watchdogTimer)
        guard config.watchdog.enabled, !isShuttingDown else { return }
        watchdogTimer = loop.schedule(after: delay) { [unowned self] in
            self.watchdogPass()
            self.scheduleWatchdog(after: self.config.watchdog.checkInterval)
        }
    }

    /// One pass over every module's processes: resources, stopped processes, memory limits. The
    /// whole of /proc is read once, and only when some module's processes are not all in its cgroup.
    func watchdogPass() {
        metrics.watchdogChecks += 1
        let started = Clock.monotonic()
        let running = modules.values.filter { $0.pid != nil }
        let table = running.allSatisfy(\.contained) ? nil : ProcessTable.scan()
        let now = Clock.monotonic()
        for runner in running { runner.sample(table, now: now) }
        let exited = ModuleLogWriter.exited(running.map(\.logWriter))
        for runner in running where exited.contains(where: { $0 === runner.logWriter }) { runner.restartLogWriter() }
        cache.purgeExpired(now: now)
        metrics.recordWatchdogPass(ms: (Clock.monotonic() - started) * 1000)
    }

    func daemonResources() -> JSON {
        let pid = getpid()
        guard let stat = ProcStat.read(pid) else { return ["pid": JSON(pid)] }
        let now = Clock.monotonic()
        var cpu = 0.0
        if let last = daemonCPU, now > last.at {
            cpu = Double(stat.cpuTicks - last.ticks) / Double(ProcStat.clockTicks) / (now - last.at) * 100
        }
        daemonCPU = (stat.cpuTicks, now)
        return [
            "pid": JSON(pid), "rss_bytes": JSON(stat.rssBytes), "threads": JSON(stat.threads),
            "open_files": JSON(ProcStat.openFileCount(pid)), "cpu_percent": JSON((cpu * 10).rounded() / 10),
            "cpu_seconds_total": JSON(Double(stat.cpuTicks) / Double(ProcStat.clockTicks)),
            "connections": JSON(server.connections.count),
        ]
    }
}
