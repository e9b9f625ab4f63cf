import Glibc
import JSON
import SuperBotTesting
import SystemKit
import Testing
import TradingSettings

/// The `backtest` executable from a terminal (exit codes, files) and as a one-shot module under
/// the daemon, driven by `superbot-cli backtest run` with per-run parameters.
@Suite(.serialized) struct BacktestModuleTests {
    func backtest(_ args: [String], in dir: String) -> (code: Int32, output: String) {
        let out = dir + "/backtest-\(Int(Clock.monotonic() * 1e6)).out"
        defer { unlink(out) }
        let code = Harness.run(Harness.binary("backtest"), args, cwd: dir, output: out)
        return (code, (try? FileSystem.readString(out)) ?? "")
    }

    func csv(_ rows: Int, in dir: String, bad: String? = nil) throws -> String {
        var text = "timestamp,open,high,low,close,volume\n"
        var price = 100.0
        for i in 0..<rows {
            let next = price * (1 + 0.02 * sin(Double(i) / 7))
            text +=
                "\(1_700_000_000 + i * 60),\(price),\(max(price, next) + 0.5),\(min(price, next) - 0.5),\(next),10\n"
            price = next
        }
        if let bad { text += bad + "\n" }
        let path = dir + "/bars.csv"
        try FileSystem.writeAtomically(path, Array(text.utf8))
        return path
    }

    @Test func fromATerminal() throws {
        let dir = temporaryDirectory("bt")
        defer { removeTree(dir) }
        #expect(backtest(["--help"], in: dir).code == 0)
        let usage = backtest(["--data"], in: dir)
        #expect(usage.code == 2 && usage.output.contains("--data needs a value"))
        let path = try csv(400, in: dir)
        let run = backtest(
            ["--data", path, "--fast", "5", "--slow", "12", "--commission", "0.001", "--run-id", "one"], in: dir)
        #expect(run.code == 0, "\(run.output)")
        #expect(run.output.contains("Sharpe Ratio") && run.output.contains("# Trades"))
        #expect(
            FileSystem.exists(dir + "/reports/one/report.json") && FileSystem.exists(dir + "/reports/one/report.html"))
        let json = backtest(["--data", path, "--json", "--no-report"], in: dir)
        let report = try JSON.parse(Array(json.output.utf8))
        #expect(json.code == 0 && report["data"]?["bars"]?.intValue == 400)
        #expect(!FileSystem.exists(dir + "/reports/" + (report["run_id"]?.stringValue ?? "x")))

        let bad = try csv(50, in: dir, bad: "1700009999,1,2,3,4,5")
        let refused = backtest(["--data", bad], in: dir)
        #expect(refused.code == 2 && refused.output.contains("\(bad):52: high/low do not contain"), "\(refused.output)")
        let skipped = backtest(["--data", bad, "--skip-bad-rows", "--json", "--no-report"], in: dir)
        let skippedReport = try JSON.parse(Array(skipped.output.utf8))
        #expect(skipped.code == 0 && skippedReport["data"]?["skipped_rows"]?.intValue == 1)
        #expect(backtest(["--data", dir + "/missing.csv"], in: dir).code == 2)
    }

    @Test func asAModuleWithParametersPerRun() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                backtest:
                  command: backtest
                  args: ["--synthetic", "BTCUSDT", "--bars", "3000", "--run-id", "configured"]
                  restart: never
            """)
        defer { h.cleanup() }
        try h.startDaemon()
        let path = try csv(600, in: h.dir)

        let run = h.cli(["backtest", "run", "--data", path, "--fast", "4", "--slow", "11", "--run-id", "mine"])
        #expect(run.code == 0, "\(run.output)\n\(h.daemonOutput())")
        #expect(run.output.contains("mine: sma_crossover fast=4 slow=11, 600 bars"))
        #expect(run.output.contains("Sharpe Ratio"))
        #expect(FileSystem.exists(h.dir + "/reports/mine/report.html"))
        #expect(waitUntil(10) { h.state("backtest") == "stopped" })

        // A bad run fails with the backtester's own message and exit 1; the next run without
        // parameters is the configured one again (the parameters lasted one run).
        let bad = h.cli(["backtest", "run", "--bogus"])
        #expect(bad.code == 1 && bad.output.contains("unknown option '--bogus'"), "\(bad.output)")
        #expect(
            waitUntil(10) { !(h.state("backtest").map { ["starting", "running", "stopping"].contains($0) } ?? true) })
        let plain = h.cli(["--json", "backtest", "run"])
        #expect(plain.code == 0, "\(plain.output)")
        let summary = try JSON.parse(Array(plain.output.split(separator: "\n").last!.utf8))
        #expect(summary["run_id"]?.stringValue == "configured" && summary["bars"]?.intValue == 3000)

        // Parameters while a run is going are refused; so are malformed ones.
        #expect(waitUntil(10) { h.state("backtest") != "running" && h.state("backtest") != "starting" })
        _ = try h.call(
            "module.start",
            ["name": "backtest", "params": ["synthetic": "BTCUSDT", "bars": 100_000, "run_id": "long"], "wait": false])
        #expect(throws: (any Error).self) {
            _ = try h.call("module.start", ["name": "backtest", "params": ["fast": 3], "wait": false])
        }
        #expect(throws: (any Error).self) {
            _ = try h.call("module.start", ["name": "backtest", "params": ["Fast": 3]])
        }
        #expect(waitUntil(60) { FileSystem.exists(h.dir + "/reports/long/report.json") })

        let list = h.cli(["backtest", "list"])
        #expect(list.code == 0 && list.output.contains("mine") && list.output.contains("configured"))
        let show = h.cli(["backtest", "show", "mine"])
        #expect(show.code == 0 && show.output.contains("Max. Drawdown Duration"))
        #expect(h.cli(["backtest", "show", "nope"]).code == 1)
    }
}

/// Klines from a real exchange-sim, and `--strategy default` from its trading.yaml.
@Suite struct BacktestFromExchangeTests {
    @Test func klinesFromTheSimulator() throws {
        let sim = try SimProcess(symbols: "BTCUSDT", simulator: "speed: 60, history_bars: 400")
        let out = sim.dir + "/bt.out"
        let code = Harness.run(
            Harness.binary("backtest"),
            [
                "--exchange", "http://127.0.0.1:\(sim.port)", "--symbol", "BTCUSDT", "--bars", "300", "--strategy",
                "default", "--config", sim.dir + "/trading.yaml", "--json", "--no-report",
            ], cwd: sim.dir, output: out)
        let text = (try? FileSystem.readString(out)) ?? ""
        #expect(code == 0, "\(text)")
        let report = try JSON.parse(Array(text.utf8))
        #expect(report["data"]?["source"]?.stringValue == "exchange" && report["data"]?["bars"]?.intValue == 300)
        let live = try TradingConfig.load(path: sim.dir + "/trading.yaml").engines[0].strategy
        #expect(
            report["parameters"]?["fast"]?.intValue == live.fast && report["parameters"]?["slow"]?.intValue == live.slow
        )

        // Nothing listening: a clear failure, exit 2, no report.
        sim.kill()
        let down = Harness.run(
            Harness.binary("backtest"), ["--exchange", "http://127.0.0.1:\(sim.port)", "--symbol", "BTCUSDT"],
            cwd: sim.dir, output: out)
        #expect(down == 2)
    }
}
