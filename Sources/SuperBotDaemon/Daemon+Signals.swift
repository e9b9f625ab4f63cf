import Glibc
import JSON
import RPC
import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit

/// Signals (one signalfd on the loop), child exits, and the shutdown sequence.
extension Daemon {
    func handleSignals() {
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
    func reapChildren() {
        for (pid, status) in Spawner.reapChildren() {
            if let runner = modules.values.first(where: { $0.pid == pid }) {
                runner.processExited(status)
            } else {
                logger.debug(
                    "reaped an orphaned descendant", ["pid": JSON(pid), "status": .string(status.description)])
            }
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
        stopScheduler()
        queue.cancelStarts()
        for runner in modules.values where !runner.state.hasProcess { runner.stop() }
        enqueueStop(modules.values.filter { $0.state.hasProcess }.map(\.name))
        if modules.values.allSatisfy({ !$0.state.hasProcess }) && !finished { finishShutdown() }
    }

    func finishShutdown() {
        finished = true
        bridge?.stop()
        // Nothing a module started may outlive the daemon's stop: whatever still carries this
        // run directory's marker (a module removed by a reload, a process that escaped) dies now.
        for runner in modules.values { runner.cgroup?.killAll() }
        // The modules are gone: the writers drain their pipes, all at once, before anything is swept.
        for runner in modules.values { runner.logWriter.requestStop() }
        for runner in modules.values { runner.logWriter.stop(timeout: 2) }
        let deadline = Clock.monotonic() + 1
        for runner in modules.values {
            runner.cgroup?.waitUntilEmpty(deadline: deadline)
            runner.cgroup?.remove()
        }
        ModuleCgroup.removeRun(runID: runID)
        let survivors = ProcessSnapshot.take(runID: runID).marked
        for pid in survivors.keys { kill(pid, SIGKILL) }
        let killed: JSON = [
            "pids": .array(survivors.keys.sorted().map { JSON($0) }),
            "modules": .array(Set(survivors.values).sorted().map { .string($0) }),
        ]
        if !survivors.isEmpty {
            logger.warning(
                "daemon stop: killed module processes that outlived their modules", killed.objectValue ?? [:])
        }
        // Whoever asked for the stop hears what had to be killed (a notification, then the close).
        for connection in stopRequesters {
            server.send(["jsonrpc": "2.0", "method": "daemon.stopped", "params": ["killed": killed]], to: connection)
        }
        _ = queue.cancelWaiters()
        waiters = [:]
        loop.cancel(waiterTimer)
        loop.cancel(followTimer)
        server.shutdown()
        loop.stop()
    }
}

extension ModuleRunner {
    /// SIGKILL to the whole tree right away (a second Ctrl-C during shutdown).
    func forceKill() { if pid != nil { apply([.killGroup]) } }
}
