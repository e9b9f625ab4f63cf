import JSON
import Testing

@testable import SuperBotCLI

@Suite struct CLITests {
    @Test func optionsAnywhere() throws {
        let o = try CLI.parse(["status", "--json", "--socket", "/tmp/s.sock", "web"])
        #expect(o.json && o.socket == "/tmp/s.sock" && o.command == ["status", "web"])
        #expect(throws: (any Error).self) { try CLI.parse(["--socket"]) }
        #expect(throws: (any Error).self) { try CLI.parse(["--timeout", "-1"]) }
    }

    @Test func usageErrorsExitTwoAndMissingDaemonExitsThree() {
        #expect(CLI.main([]) == 2)
        #expect(CLI.main(["frobnicate"]) == 2)
        #expect(CLI.main(["start"]) == 2)
        #expect(CLI.main(["--socket", "/tmp/definitely-not-a-superbot.sock", "status"]) == 3)
    }

    @Test func statusTable() {
        let rows: [JSON] = [
            [
                "name": "web", "state": "running", "pid": 42, "uptime_seconds": 3723, "cpu_percent": 1.25,
                "rss_bytes": 10_485_760, "restarts": 2,
            ],
            ["name": "bad", "state": "fatal", "pid": nil, "reason": "cannot start: not found", "restarts": 0],
        ]
        let text = Table.modules(rows)
        let lines = text.split(separator: "\n")
        #expect(lines[0].hasPrefix("NAME  STATE    PID  UPTIME    CPU   RSS    RESTARTS  INFO"))
        #expect(lines[1].contains("running  42   01:02:03  1.3%  10.0M  2"))
        #expect(lines[2].hasSuffix("cannot start: not found"))
        #expect(Table.duration(90061) == "1-01:01:01")
    }
}
