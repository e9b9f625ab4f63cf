import Glibc
import JSON
import SuperBotTesting
import SystemKit
import Testing

/// `superbot-cli` as an operator uses it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CLITests {
    @Test func statusStartStopRestartAndExitCodes() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                web: {command: superbot-fixture, start_seconds: 0}
                job: {command: superbot-fixture, args: [--exit-after, "0", --code, "1"], start_seconds: 1, max_restart_attempts: 0}
              autostart: [web]
            """)
        #expect(h.cli(["status"]).code == 3, "no daemon yet")
        try h.startDaemon()
        #expect(h.waitForState("web", "running"))
        let status = h.cli(["status"])
        #expect(status.code == 0)
        let lines = status.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.contains { $0.hasPrefix("web") && $0.contains("running") && $0.contains("\(h.pid("web")!)") })
        #expect(lines.contains { $0.hasPrefix("job") && $0.contains("stopped") })

        let json = h.cli(["--json", "status", "web"])
        let parsed = try JSON.parse(json.output)
        #expect(parsed.arrayValue?.first?["name"] == "web")

        #expect(h.cli(["stop", "web"]).output == "web: stopped\n")
        #expect(h.state("web") == "stopped")
        #expect(h.cli(["start", "web"]).code == 0)
        #expect(h.state("web") == "running")
        let before = h.pid("web")
        #expect(h.cli(["restart", "web"]).code == 0)
        #expect(h.pid("web") != before)

        let failing = h.cli(["start", "job"])
        #expect(failing.code == 1)
        #expect(failing.output.contains("job: fatal"))
        #expect(h.cli(["stop", "nosuch"]).code == 1)
        #expect(h.cli(["frobnicate"]).code == 2)
        #expect(h.cli(["module", "status", "web"]).output.contains("state             running"))
        #expect(h.cli(["rpc", "monitoring.health"]).output.contains("\"status\":"))
        #expect(h.cli(["rpc", "module.status", "{bad json"]).code == 2)
        #expect(h.cli(["logs", "web", "-n", "1"]).output.hasPrefix("fixture pid="))
        #expect(h.cli(["stop", "all"]).code == 0)
        #expect(h.ownedProcesses().isEmpty)
        #expect(h.cli(["daemon", "stop"]).code == 0)
        #expect(Harness.waitForExit(h.daemonPID!, timeout: 10) == 0)
    }
}

/// Smaller things an operator meets: a refused connection says why; `status NAME` asks for NAME.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct CLIRefusalTests {
    @Test func aRefusedConnectionPrintsTheDaemonsReason() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                web: {command: superbot-fixture, start_seconds: 0}
              autostart: [web]
              ipc: {max_connections: 1}
            """)
        try h.startDaemon()
        let holder = try RawClient(h.socketPath)
        try holder.send(#"{"jsonrpc":"2.0","id":1,"method":"daemon.status"}"# + "\n")
        #expect(holder.readJSON()?["result"] != nil)
        let refused = h.cli(["status"])
        #expect(refused.code == 1)
        #expect(refused.output.contains("too many connections (max_connections 1)"), "\(refused.output)")
        #expect(!refused.output.contains("closed the connection"))
    }

    @Test func statusOfNamedModulesAsksForThoseAndNamesUnknownOnes() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                web: {command: superbot-fixture, start_seconds: 0}
                api: {command: superbot-fixture, start_seconds: 0}
              autostart: [web, api]
            """)
        try h.startDaemon()
        #expect(h.waitForState("web", "running"))
        let one = try h.call("module.list", ["names": ["api"]])
        #expect(one["modules"]?.arrayValue?.map { $0["name"]?.stringValue } == ["api"])
        let status = h.cli(["status", "api"])
        #expect(status.code == 0 && status.output.contains("api") && !status.output.contains("web"))
        let unknown = h.cli(["status", "wbe"])
        #expect(unknown.code == 1 && unknown.output.contains("did you mean 'web'?"), "\(unknown.output)")
    }
}
