import Glibc
import JSON
import SuperBotConfig
import Supervision
import SystemKit

/// The watchdog's pass over a module's tree in /proc: resources, stopped processes, the RSS limit.
extension ModuleRunner {
    /// One watchdog pass: resource figures from /proc, process-state alerts, the RSS limit. A
    /// module whose cgroup holds all of its processes is read from the group (its members' stat
    /// lines only); the others from the pass's table of every process (`table`).
    func sample(_ table: ProcessTable?, now: Double) {
        guard let pid else { return }
        let tree: [ProcStat]
        let found: ProcStat?
        if contained, let cgroup {
            if watch?.pid != pid { watch = ProcessWatch(pid: pid, cgroup: cgroup) }
            found = watch.map { $0.stat() } ?? ProcStat.read(pid)
            tree = (watch?.members() ?? cgroup.members()).compactMap { $0 == pid ? nil : ProcStat.read($0) }
        } else {
            tree = table?.tree(of: pid) ?? []
            found = table?.entries[pid] ?? ProcStat.read(pid)
        }
        guard let main = found else { return }
        knownTree = tree
        let members = [main] + tree
        let ticks = members.reduce(0) { $0 + $1.cpuTicks }
        var cpu = 0.0
        if let last = cpuSample, now > last.at, ticks >= last.ticks {
            cpu = Double(ticks - last.ticks) / Double(ProcStat.clockTicks) / (now - last.at) * 100
        }
        cpuSample = (ticks, now)
        resources = ModuleResources(
            cpuPercent: cpu, rssBytes: members.reduce(0) { $0 + $1.rssBytes },
            threads: members.reduce(0) { $0 + $1.threads },
            openFiles: resources.openFiles, children: tree.count, processState: String(main.state))
        if main.isStopped && !stoppedStateReported {
            stoppedStateReported = true
            context.logger.warning(
                "module process is stopped (SIGSTOP?); it is not restarted",
                ["module": .string(name), "pid": JSON(pid)])
        }
        if let limit = spec.maxRSSMB, resources.rssBytes > UInt64(limit) << 20, state == .running {
            let why = "RSS \(resources.rssBytes >> 20) MiB over max_rss_mb \(limit)"
            context.logger.warning(
                "module over its memory limit; restarting",
                ["module": .string(name), "rss_bytes": JSON(resources.rssBytes)])
            fail(why, now: now)
        }
    }

    /// A writer that died while its module runs is started again on the same pipe; the module's
    /// output waited in the pipe meanwhile (the daemon holds it open).
    func restartLogWriter() {
        guard !logWriter.isRunning else { return }
        context.logger.warning("log writer gone; starting it again", ["module": .string(name)])
        do { try logWriter.start(logWriterSettings) } catch {
            context.logger.error(
                "cannot start the log writer", ["module": .string(name), "error": .string("\(error)")])
        }
    }

    /// Figures for `status` between watchdog passes: the last tree sample, with the main process's
    /// state, open files (and, before the first sample, its RSS and threads) read now. The fd
    /// count is read here, not in every pass: nothing acts on it, and it is a directory read per
    /// module that would double the pass. A status row, which does not show it, leaves it out.
    func liveResources(openFiles: Bool = true) -> ModuleResources {
        guard let pid, let stat = ProcStat.read(pid) else { return resources }
        var live = resources
        live.processState = String(stat.state)
        if openFiles { live.openFiles = ProcStat.openFileCount(pid) }
        live.cpuSeconds = Double(stat.cpuTicks) / Double(ProcStat.clockTicks)
        if cpuSample == nil {
            live.rssBytes = stat.rssBytes
            live.threads = stat.threads
        }
        return live
    }

    func uptimeFromStartTime(_ ticks: UInt64) -> Double {
        guard let text = try? FileSystem.readString("/proc/uptime"),
            let up = Double(text.split(separator: " ").first ?? "")
        else { return 0 }
        return max(0, up - Double(ticks) / Double(ProcStat.clockTicks))
    }
}

/// What the watchdog last read from /proc for a module's whole tree.
struct ModuleResources {
    var cpuPercent = 0.0
    var rssBytes: UInt64 = 0
    var threads = 0
    var openFiles = 0
    var children = 0
    var processState: String?
    /// CPU time of the module's main process (read live, for a Prometheus counter).
    var cpuSeconds = 0.0
}
