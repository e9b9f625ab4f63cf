import Testing

@testable import SuperBotCLI

/// Command lines are parsed and validated before anything reaches a daemon.
@Suite struct CLICommandTests {
    @Test(arguments: [
        ["logs"], ["logs", "worker", "--symbol", "BTCUSDT"], ["logs", "-n", "x", "worker"], ["start"],
        ["module", "stop", "x"],
        ["daemon", "explode"], ["trading", "wallet"], ["bus", "pub"], ["bus", "pub", "a.b", "{bad"],
        ["events", "extra"],
        ["rpc"], ["rpc", "a.b", "[1,"], ["engines", "start"], ["engines", "a", "b"], ["frobnicate"],
        ["--timeout", "-1", "status"],
    ])
    func badCommandLinesAreUsageErrorsWithoutADaemon(arguments: [String]) {
        // The socket does not exist: reaching for it would say notRunning, not usage.
        #expect(CLI.run(["--socket", "/nonexistent/superbot.sock"] + arguments) == .usage)
    }

    @Test func goodCommandLinesReachForTheDaemon() {
        for arguments in [
            ["status"], ["logs", "--symbol", "BTCUSDT", "-n", "5"], ["engines", "restart", "ETHUSDT"],
            ["daemon", "status"],
        ] {
            #expect(CLI.run(["--socket", "/nonexistent/superbot.sock"] + arguments) == .notRunning, "\(arguments)")
        }
        #expect(CLI.run(["help"]) == .ok)
        #expect(CLI.run([]) == .usage)
    }

    @Test func logsParsesItsFlags() throws {
        let command = try LogsCommand(verb: "logs", arguments: ["--symbol", "SOLUSDT", "-f", "-n", "25"])
        #expect(command.symbol == "SOLUSDT" && command.follow && command.lines == 25 && command.name == nil)
        #expect(throws: UsageError.self) { try LogsCommand(verb: "logs", arguments: ["-f"]).validate() }
    }
}
