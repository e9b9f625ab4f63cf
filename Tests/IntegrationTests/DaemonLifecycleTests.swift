import Glibc
import JSON
import RPC
import SuperBotTesting
import SystemKit
import Testing

/// The daemon as a whole: single instance, stale files, bad config, re-adoption, reload, persistence.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DaemonLifecycleTests {
    static let twoModules = """
        daemon:
          modules:
            worker: {command: superbot-fixture, start_seconds: 0}
            helper: {command: superbot-fixture, args: [--grandchild], start_seconds: 0}
          autostart: [worker, helper]
        """

    @Test func kill9LeavesModulesRunningAndTheNextDaemonAdoptsThemWithoutDuplicates() throws {
        let h = try Harness(Self.twoModules)
        try h.startDaemon()
        #expect(h.waitForState("worker", "running") && h.waitForState("helper", "running"))
        let worker = try #require(h.pid("worker"))
        let helper = try #require(h.pid("helper"))
        // The helper's grandchild is forked just after the helper runs: wait for all three.
        #expect(waitUntil(5) { h.ownedProcesses().count == 3 })
        let before = Set(h.ownedProcesses())
        h.killDaemonHard()
        #expect(Harness.isAlive(worker) && Harness.isAlive(helper), "modules must outlive a SIGKILLed daemon")
        try h.startDaemon()
        #expect(h.pid("worker") == worker && h.pid("helper") == helper)
        #expect(h.state("worker") == "running")
        #expect(Set(h.ownedProcesses()) == before, "no duplicate was started")
        #expect(try h.call("monitoring.metrics")["modules.adopted"]?.intValue == 2)
        // The adopted module is watched by pidfd: its crash is seen and it is restarted.
        kill(worker, SIGKILL)
        #expect(waitUntil(5) { h.pid("worker") != nil && h.pid("worker") != worker })
        #expect(try h.status("worker")["restarts"]?.intValue == 1)
        // And the adopted one still stops cleanly with its tree.
        #expect(h.stopDaemon() == 0)
        #expect(h.ownedProcesses().isEmpty)
    }

    @Test func pidFileOfAnUnrelatedProcessIsNotAdopted() throws {
        let h = try Harness(Self.twoModules)
        try FileSystem.makeDirectories(h.runDir)
        // pid 1 is alive but is not our module: start time and executable do not match.
        try FileSystem.writeAtomically(h.runDir + "/worker.pid", Array("1\nstart_time=12345\nexe=/bin/false\n".utf8))
        try h.startDaemon()
        #expect(h.waitForState("worker", "running"))
        #expect(h.pid("worker") != 1)
        #expect(try h.call("monitoring.metrics")["modules.adopted"]?.intValue == 0)
    }

    @Test func stalePidFileDoesNotBlockAndASecondDaemonIsRefused() throws {
        let h = try Harness(Self.twoModules)
        try FileSystem.makeDirectories(h.runDir)
        try FileSystem.writeAtomically(h.runDir + "/daemon.pid", Array("999999\n".utf8))
        let first = try h.startDaemon()
        #expect(try FileSystem.readString(h.runDir + "/daemon.pid") == "\(first)\n")
        let code = Harness.run(
            Harness.binary("superbot"), ["--config", h.dir + "/config"], cwd: h.dir, output: h.dir + "/second.out")
        #expect(code == 4)
        let message = try FileSystem.readString(h.dir + "/second.out")
        #expect(message.contains("already running (pid \(first))"), "\(message)")
        #expect((try? h.call("daemon.status"))?["pid"]?.intValue == Int(first), "the first daemon is unaffected")
    }

    @Test func badConfigNamesFileLineColumnAndExitsTwo() throws {
        let h = try Harness("daemon:\n  modules:\n    a:\n      comand: x\n")
        let out = h.dir + "/check.out"
        #expect(
            Harness.run(Harness.binary("superbot"), ["--config", "config", "--check-config"], cwd: h.dir, output: out)
                == 2)
        let text = try FileSystem.readString(out)
        #expect(text.contains("config/daemon.yaml:4:7: unknown key 'comand'"), "\(text)")
        #expect(text.contains("did you mean 'command'"), "\(text)")
        #expect(Harness.run(Harness.binary("superbot"), ["--config", "config"], cwd: h.dir, output: out) == 2)
        try h.writeConfig(Self.twoModules)
        #expect(
            Harness.run(Harness.binary("superbot"), ["--config", "config", "--check-config"], cwd: h.dir, output: out)
                == 0)
        #expect(Harness.run(Harness.binary("superbot"), ["--bogus"], cwd: h.dir, output: out) == 2)
    }

    @Test func socketAndRunDirectoryArePrivate() throws {
        let h = try Harness(Self.twoModules)
        try h.startDaemon()
        var st = stat()
        #expect(stat(h.socketPath, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(stat(h.runDir, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o700)
    }

    @Test func operatorStopIsRememberedAcrossDaemonRestarts() throws {
        let h = try Harness(Self.twoModules)
        try h.startDaemon()
        #expect(h.waitForState("worker", "running"))
        _ = try h.call("module.stop", ["name": "worker"])
        #expect(h.stopDaemon() == 0)
        try h.startDaemon()
        #expect(h.waitForState("helper", "running"))
        #expect(h.state("worker") == "stopped")
        #expect(try h.status("worker")["operator_stopped"] == true)
        #expect(try h.call("monitoring.health")["status"] == "ok", "an operator-stopped module is not a failure")
        _ = try h.call("module.start", ["name": "worker"])
        #expect(h.state("worker") == "running")
    }

    @Test func reloadAppliesTheDiffAndRefusesABadFile() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                keep: {command: superbot-fixture, start_seconds: 0}
                change: {command: superbot-fixture, start_seconds: 0}
                drop: {command: superbot-fixture, start_seconds: 0}
              autostart: [keep, change, drop]
            """)
        try h.startDaemon()
        #expect(
            h.waitForState("keep", "running") && h.waitForState("change", "running")
                && h.waitForState("drop", "running"))
        let keep = h.pid("keep")
        let change = h.pid("change")
        let drop = try #require(h.pid("drop"))
        try h.writeConfig(
            """
            daemon:
              modules:
                keep: {command: superbot-fixture, start_seconds: 0}
                change: {command: superbot-fixture, args: [--spam, "1"], start_seconds: 0}
                added: {command: superbot-fixture, start_seconds: 0}
              autostart: [keep, change, added]
            """)
        let diff = try h.call("daemon.reload_config")
        #expect(
            diff == ["changed": ["change"], "added": ["added"], "removed": ["drop"], "infrastructure_changed": false])
        #expect(h.waitForState("added", "running"))
        #expect(waitUntil(5) { h.pid("change") != nil && h.pid("change") != change })
        #expect(h.pid("keep") == keep)
        #expect(waitUntil(5) { !Harness.isAlive(drop) })
        #expect(throws: RPCError.self) { try h.status("drop") }

        try h.writeConfig("daemon:\n  modules:\n    keep: {command: [unclosed\n")
        do {
            _ = try h.call("daemon.reload_config")
            Issue.record("a bad config was accepted")
        } catch let error as RPCError {
            #expect(error.message.contains("running configuration is kept"))
            #expect(error.message.contains("daemon.yaml:3:"))
        }
        #expect(h.pid("keep") == keep && h.state("added") == "running")
        // SIGHUP reloads too (and with the same bad file, changes nothing).
        kill(h.daemonPID!, SIGHUP)
        Clock.sleep(0.2)
        #expect(h.pid("keep") == keep)
    }
}
