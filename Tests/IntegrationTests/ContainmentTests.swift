import Glibc
import JSON
import SuperBotTesting
import SystemKit
import Testing

/// Every process a module starts belongs to it until it exits, however it detaches; PID files
/// that are lost or forged neither duplicate a module nor hand the daemon someone else's process.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ContainmentTests {
    @Test func processesThatLeaveTheTreeDieWithTheirModuleAndAtDaemonStop() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                escaper:
                  command: 'setsid -f sleep 1000; exec sleep 100000'
                  shell: true
                  start_seconds: 0
              autostart: [escaper]
            """)
        try h.startDaemon()
        #expect(h.waitForState("escaper", "running"))
        #expect(waitUntil(5) { h.ownedProcesses().count == 2 })
        let main = try #require(h.pid("escaper"))
        let escaped = try #require(h.ownedProcesses().first { $0 != main })
        #expect(ProcStat.read(escaped)?.session != ProcStat.read(main)?.session)
        // Where this machine lets us make cgroups, the module runs in its own. (With v1, a child
        // forked in the moment between spawn and the move into the group is found by its marker.)
        if let version = cgroupVersion() {
            let group = try "/superbot-\(h.runID())/escaper"
            for pid in [main, escaped] {
                let groups = (try? FileSystem.readString("/proc/\(pid)/cgroup")) ?? ""
                #expect(version == "v1" || unifiedGroup(groups).hasSuffix(group), "\(groups)")
                #expect(version == "v2" || groups.contains("pids:\(group)") || pid == escaped, "\(groups)")
            }
        }
        #expect(h.cli(["stop", "escaper"]).code == 0)
        #expect(waitUntil(5) { h.ownedProcesses().isEmpty }, "left: \(h.ownedProcesses())")
        // Started again and the daemon stopped: nothing survives either.
        #expect(h.cli(["start", "escaper"]).code == 0)
        #expect(waitUntil(5) { h.ownedProcesses().count == 2 })
        #expect(h.stopDaemon() == 0)
        #expect(waitUntil(5) { h.ownedProcesses().isEmpty }, "left: \(h.ownedProcesses())")
    }

    /// Where cgroup v2 is writable, a module is born inside its group (clone3 into the cgroup),
    /// so a child it forks at once is a member too, and a crash kills it through the group.
    /// When the module was moved in after the spawn, that child (forked within a millisecond,
    /// while the move waits several for an RCU grace period) was left outside.
    @Test func aModuleIsBornInsideItsCgroupSoAChildForkedAtOnceIsAMember() throws {
        guard cgroupVersion() == "v2" else { return }
        let h = try Harness(
            """
            daemon:
              modules:
                racer:
                  command: 'sleep 1000 & exec sleep 100000'
                  shell: true
                  start_seconds: 0
              autostart: [racer]
            """)
        try h.startDaemon()
        #expect(h.waitForState("racer", "running"))
        #expect(waitUntil(5) { h.ownedProcesses().count == 2 })
        let group = try "/superbot-\(h.runID())/racer"
        let first = h.ownedProcesses()
        for pid in first {
            #expect(unifiedGroup((try? FileSystem.readString("/proc/\(pid)/cgroup")) ?? "").hasSuffix(group))
        }
        let daemon = unifiedGroup(try FileSystem.readString("/proc/\(try #require(h.daemonPID))/cgroup"))
        #expect(!daemon.contains("/superbot-"), "the daemon stays in its own group: \(daemon)")
        // A crash: the child the shell left behind dies with the group, and the module comes back.
        let main = try #require(h.pid("racer"))
        kill(main, SIGKILL)
        #expect(waitUntil(5) { h.pid("racer").map { $0 != main } == true && h.state("racer") == "running" })
        for pid in first { #expect(waitUntil(5) { !Harness.isAlive(pid) }, "\(pid) survived the crash") }
        #expect(waitUntil(5) { h.ownedProcesses().count == 2 })
        #expect(h.stopDaemon() == 0)
        #expect(waitUntil(5) { h.ownedProcesses().isEmpty }, "left: \(h.ownedProcesses())")
    }

    /// A process that carries this run's marker for a module no longer configured (as one a
    /// reload removed would) is swept at daemon stop, and `daemon stop` says so.
    @Test func daemonStopSaysWhichProcessesOutlivedTheirModules() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                worker: {command: superbot-fixture, start_seconds: 0}
              autostart: [worker]
            """)
        try h.startDaemon()
        #expect(h.waitForState("worker", "running"))
        let runID = try FileSystem.readString(h.runDir + "/run-id").split(separator: "\n").first.map(String.init) ?? "?"
        let stray = try Spawner.spawn(
            SpawnRequest(
                executable: "/bin/sleep", arguments: ["sleep", "1000"],
                environment: ["SUPERBOT_RUN_ID=\(runID)", "SUPERBOT_MODULE=removed"]))
        defer {
            kill(stray, SIGKILL)
            _ = Harness.waitForExit(stray, timeout: 5)
        }
        let stop = h.cli(["daemon", "stop"])
        #expect(stop.code == 0)
        #expect(stop.output.contains("killed 1 process that outlived their modules (removed)"), "\(stop.output)")
        #expect(Harness.waitForExit(stray, timeout: 5) == 128 + SIGKILL)
    }

    @Test func aLostPidFileIsFoundByTheMarkerWithoutADuplicate() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                keeper: {command: superbot-fixture, start_seconds: 0}
              autostart: [keeper]
            """)
        try h.startDaemon()
        #expect(h.waitForState("keeper", "running"))
        let pid = try #require(h.pid("keeper"))
        h.killDaemonHard()
        unlink(h.runDir + "/keeper.pid")
        try h.startDaemon()
        #expect(h.waitForState("keeper", "running"))
        #expect(h.pid("keeper") == pid)
        Clock.sleep(0.3)
        #expect(h.ownedProcesses() == [pid])
        #expect(h.daemonLogText().contains("found running by its marker"))
        #expect(FileSystem.exists(h.runDir + "/keeper.pid"))
        #expect(h.stopDaemon() == 0)
        #expect(waitUntil(5) { !Harness.isAlive(pid) })
    }

    @Test func aForgedPidFileDoesNotHandOverAnUnrelatedProcess() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                victim: {command: superbot-fixture, start_seconds: 0}
              autostart: [victim]
            """)
        // An unrelated process, and a PID file that describes it exactly (pid, start time, exe).
        let env = Environment.all().filter { !$0.hasPrefix("SUPERBOT_") }
        let stranger = try Spawner.spawn(
            SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "300"], environment: env))
        defer {
            kill(stranger, SIGKILL)
            _ = Harness.waitForExit(stranger, timeout: 5)
        }
        #expect(waitUntil(5) { ProcStat.executable(stranger)?.hasSuffix("sleep") == true })
        let stat = try #require(ProcStat.read(stranger))
        try FileSystem.makeDirectories(h.runDir)
        try FileSystem.writeAtomically(
            h.runDir + "/victim.pid",
            Array("\(stranger)\nstart_time=\(stat.startTime)\nexe=\(ProcStat.executable(stranger)!)\n".utf8))
        try h.startDaemon()
        #expect(h.waitForState("victim", "running"))
        #expect(h.pid("victim") != stranger)
        #expect(h.daemonLogText().contains("lacks the module's marker"))
        #expect(h.stopDaemon() == 0)
        #expect(Harness.isAlive(stranger))
    }

    @Test func stoppingAStoppedModuleSendsSIGCONTAndDoesNotWaitForTheTimeout() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                frozen: {command: superbot-fixture, start_seconds: 0, stop_timeout: 30}
              autostart: [frozen]
            """)
        try h.startDaemon()
        #expect(h.waitForState("frozen", "running"))
        let pid = try #require(h.pid("frozen"))
        kill(pid, SIGSTOP)
        #expect(waitUntil(5) { ProcStat.read(pid)?.isStopped == true })
        #expect(h.cli(["stop", "frozen"]).code == 0)
        // It ended from SIGTERM (which a stopped process only acts on once continued), not SIGKILL.
        let exit = try h.status("frozen")["last_exit"]?.stringValue ?? ""
        #expect(exit.contains("SIGTERM") || exit.contains("exited with code"), "\(exit)")
        #expect(h.stopDaemon() == 0)
    }
}

/// Which cgroup a module gets here, as the daemon probes it: "v2", "v1", or nil (marker only).
func cgroupVersion() -> String? {
    let runID = "probe\(getpid())"
    guard let probe = ModuleCgroup.make(runID: runID, module: "probe") else { return nil }
    probe.remove()
    ModuleCgroup.removeRun(runID: runID)
    return probe.kind == .unified ? "v2" : "v1"
}

/// The cgroup v2 path in a `/proc/PID/cgroup` text (its `0::` line).
func unifiedGroup(_ text: String) -> String {
    text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? ""
}

extension Harness {
    /// The run directory's id, which names the module cgroups and markers.
    func runID() throws -> String {
        try FileSystem.readString(runDir + "/run-id").split(separator: "\n").first.map(String.init) ?? "?"
    }

    /// The daemon's JSON Lines log, all days.
    func daemonLogText() -> String {
        FileSystem.listDirectory(dir + "/logs").filter { $0.hasPrefix("daemon") }
            .compactMap { try? FileSystem.readString(dir + "/logs/" + $0) }.joined()
    }
}

/// `state.json` damaged: kept aside, the previous version used, and the operator told.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct StateFileTests {
    @Test func aGarbledStateFileIsKeptAsideAndThePreviousVersionRemembersTheStop() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                a: {command: superbot-fixture, start_seconds: 0}
                b: {command: superbot-fixture, start_seconds: 0}
              autostart: [a, b]
            """)
        try h.startDaemon()
        #expect(h.waitForState("a", "running") && h.waitForState("b", "running"))
        #expect(h.cli(["stop", "b"]).code == 0)
        #expect(h.cli(["stop", "a"]).code == 0)
        #expect(h.stopDaemon() == 0)
        // The last save (a and b stopped) is garbled on disk; the one before it (b stopped) is `.prev`.
        try FileSystem.writeAtomically(h.runDir + "/state.json", Array("{\"operator_stopped\": [\"b\"".utf8))
        try h.startDaemon()
        #expect(h.waitForState("a", "running"))
        Clock.sleep(0.3)
        #expect(h.state("b") == "stopped")
        #expect(h.daemonLogText().contains("alert.state"))
        #expect(FileSystem.listDirectory(h.runDir).contains { $0.hasPrefix("state.json.corrupt-") })
        #expect(h.stopDaemon() == 0)
    }
}
