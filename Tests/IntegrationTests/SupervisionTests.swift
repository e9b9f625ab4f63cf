import Glibc
import JSON
import RPC
import SuperBotTesting
import SystemKit
import Testing

/// The daemon supervising real fixture processes: crashes, backoff, fatal, stop timeouts, trees.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SupervisionTests {
    @Test func crashRestartsWithBackoffThenGoesFatalAndOperatorStartRecovers() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                crasher:
                  command: superbot-fixture
                  args: [--exit-after, "0.1", --code, "3"]
                  restart_delay: 0.05
                  max_restart_attempts: 2
                  start_seconds: 0
              autostart: [crasher]
            """)
        try h.startDaemon()
        #expect(h.waitForState("crasher", "fatal"))
        let status = try h.status("crasher")
        #expect(status["restarts"]?.intValue == 2)
        #expect(status["reason"]?.stringValue?.contains("gave up after 2 restarts") == true)
        #expect(status["reason"]?.stringValue?.contains("exited with code 3") == true)
        // The module's own output went to its log file: three starts, three exits.
        let log = try FileSystem.readString(h.dir + "/logs/crasher.log")
        #expect(log.split(separator: "\n").filter { $0.hasSuffix(" started") }.count == 3)
        // Fatal is not a silent give-up: it stays down until an operator starts it, then gets a fresh count.
        let metrics = try h.call("monitoring.metrics")
        #expect(metrics["modules.failed"]?.intValue == 1)
        Clock.sleep(0.3)
        #expect(h.state("crasher") == "fatal")
        _ = try h.call("module.start", ["name": "crasher"])
        #expect(
            waitUntil(10) {
                h.state("crasher") == "fatal" && (try? h.call("monitoring.metrics"))?["modules.failed"]?.intValue == 2
            })
    }

    @Test func termIgnoringChildIsKilledAfterStopTimeoutWithItsGrandchild() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                stubborn:
                  command: superbot-fixture
                  args: [--ignore-term, --grandchild, --pid-file, pids]
                  stop_timeout: 1
                  start_seconds: 0
              autostart: [stubborn]
            """)
        try h.startDaemon()
        #expect(h.waitForState("stubborn", "running"))
        #expect(waitUntil(5) { FileSystem.exists(h.dir + "/pids.grandchild") })
        let pid = try #require(h.pid("stubborn"))
        let grandchild = try #require(
            pid_t(try FileSystem.readString(h.dir + "/pids.grandchild").split(separator: "\n")[0]))
        #expect(Harness.isAlive(grandchild))
        let begin = Clock.monotonic()
        let result = try h.call("module.stop", ["name": "stubborn"])
        let elapsed = Clock.monotonic() - begin
        #expect(result["modules"]?.arrayValue?.first?["state"] == "stopped")
        #expect(elapsed >= 0.9, "stop returned before stop_timeout: \(elapsed)")
        #expect(!Harness.isAlive(pid))
        #expect(waitUntil(2) { !Harness.isAlive(grandchild) })
        #expect(try h.status("stubborn")["last_exit"]?.stringValue == "killed by signal 9 (SIGKILL)")
        #expect(h.ownedProcesses().isEmpty)
    }

    @Test func grandchildThatLeftTheProcessGroupDiesWithTheModule() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                escaper:
                  command: superbot-fixture
                  args: [--grandchild, --escape, --pid-file, pids]
                  start_seconds: 0
              autostart: [escaper]
            """)
        try h.startDaemon()
        #expect(waitUntil(5) { FileSystem.exists(h.dir + "/pids.grandchild") })
        let grandchild = try #require(
            pid_t(try FileSystem.readString(h.dir + "/pids.grandchild").split(separator: "\n")[0]))
        let pid = try #require(h.pid("escaper"))
        #expect(ProcStat.read(grandchild)?.session != pid, "the grandchild should be in its own session")
        _ = try h.call("module.stop", ["name": "escaper"])
        #expect(waitUntil(3) { !Harness.isAlive(grandchild) })
        #expect(h.ownedProcesses().isEmpty)
    }

    @Test func missingExecutableIsFatalWithTheReasonNotAHotLoop() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                ghost: {command: ./no/such/program, type: command}
                ghost2: {command: no-such-program-anywhere, type: command}
              autostart: [ghost, ghost2]
            """)
        try h.startDaemon()
        #expect(h.waitForState("ghost", "fatal"))
        #expect(h.waitForState("ghost2", "fatal"))
        let reason = try h.status("ghost")["reason"]?.stringValue ?? ""
        #expect(
            reason.contains("cannot start") && reason.contains("no/such/program") && reason.contains("not found"),
            "\(reason)")
        Clock.sleep(0.3)
        let metrics = try h.call("monitoring.metrics")
        #expect(metrics["modules.spawn_failures"]?.intValue == 2)
        #expect(try h.status("ghost")["restarts"]?.intValue == 0)
    }

    @Test func notExecutableFileReportsTheErrno() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                script: {command: ./script.sh, type: command}
              autostart: [script]
            """)
        // A file without a usable interpreter: the exec itself fails (in posix_spawn, or in the
        // clone3 child where the module is born in its cgroup), with errno text.
        try FileSystem.writeAtomically(h.dir + "/script.sh", Array("#!/nonexistent/interpreter\n".utf8), mode: 0o755)
        try h.startDaemon()
        #expect(h.waitForState("script", "fatal"))
        let reason = try h.status("script")["reason"]?.stringValue ?? ""
        #expect(
            (reason.contains("posix_spawn(") || reason.contains("execve(")) && reason.contains("script.sh")
                && reason.contains("No such file or directory"), "\(reason)")
    }

    @Test func httpHealthCheckFailuresRestartTheModule() throws {
        let port = Harness.freePort()
        let h = try Harness(
            """
            daemon:
              modules:
                web:
                  command: superbot-fixture
                  args: [--http, "\(port)", --unhealthy-after, "1.5"]
                  start_seconds: 0.2
                  restart_delay: 0.1
                  max_restart_attempts: 10
                  healthcheck: {http: {port: \(port), path: /health, interval: 0.2, failures: 2, timeout: 1}}
              autostart: [web]
            """)
        try h.startDaemon()
        #expect(h.waitForState("web", "running"))
        let first = try #require(h.pid("web"))
        #expect(waitUntil(10) { (try? h.status("web"))?["restarts"]?.intValue ?? 0 >= 1 })
        let status = try h.status("web")
        #expect(status["reason"]?.stringValue?.contains("health check failed 2 times") == true, "\(status)")
        #expect(waitUntil(5) { h.pid("web") != nil && h.pid("web") != first })
        #expect(try h.call("monitoring.metrics")["watchdog.health_check_failures"]?.intValue ?? 0 >= 2)
    }

    @Test func memoryLimitRestartsTheModule() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                hog:
                  command: superbot-fixture
                  args: [--rss-mb, "64"]
                  max_rss_mb: 32
                  start_seconds: 0
                  restart_delay: 0.1
              autostart: [hog]
              watchdog: {check_interval: 0.2}
            """)
        try h.startDaemon()
        #expect(waitUntil(10) { (try? h.status("hog"))?["restarts"]?.intValue ?? 0 >= 1 })
        let reason = try h.status("hog")["reason"]?.stringValue ?? ""
        #expect(reason.contains("over max_rss_mb 32"), "\(reason)")
    }

    @Test func dependenciesStartInOrderAndStopInReverse() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                app: {command: superbot-fixture, depends_on: [db], start_seconds: 0}
                db: {command: superbot-fixture, start_seconds: 0.5}
              autostart: [app]
            """)
        try h.startDaemon()
        #expect(h.waitForState("app", "running"))
        #expect(h.state("db") == "running", "a dependency of an autostarted module is started too")
        #expect(h.stopDaemon() == 0)
        let events = try daemonEvents(h)
        let dbRunning = try #require(events.firstIndex { $0.msg == "module running" && $0.module == "db" })
        let appStarted = try #require(events.firstIndex { $0.msg == "module started" && $0.module == "app" })
        #expect(dbRunning < appStarted)
        let appExited = try #require(events.firstIndex { $0.msg == "module exited" && $0.module == "app" })
        let dbExited = try #require(events.firstIndex { $0.msg == "module exited" && $0.module == "db" })
        #expect(appExited < dbExited)
    }

    @Test func gracefulShutdownLeavesNoProcessPidFileOrSocket() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                a: {command: superbot-fixture, args: [--grandchild], start_seconds: 0}
                b: {command: "sleep 600 & sleep 600; wait", shell: true, start_seconds: 0}
              autostart: [a, b]
            """)
        try h.startDaemon()
        #expect(h.waitForState("a", "running") && h.waitForState("b", "running"))
        #expect(waitUntil(5) { h.ownedProcesses().count >= 5 })
        #expect(h.stopDaemon() == 0)
        #expect(h.ownedProcesses().isEmpty)
        #expect(!FileSystem.exists(h.socketPath))
        #expect(!FileSystem.exists(h.runDir + "/daemon.pid"))
        #expect(!FileSystem.exists(h.runDir + "/a.pid"))
    }

    struct Event {
        var msg: String
        var module: String?
    }

    func daemonEvents(_ h: Harness) throws -> [Event] {
        let logs = FileSystem.listDirectory(h.dir + "/logs").filter { $0.hasPrefix("daemon-") }.sorted()
        var events: [Event] = []
        for file in logs {
            for line in try FileSystem.readString(h.dir + "/logs/" + file).split(separator: "\n") {
                let json = try JSON.parse(String(line))
                events.append(Event(msg: json["msg"]?.stringValue ?? "", module: json["module"]?.stringValue))
            }
        }
        return events
    }
}
