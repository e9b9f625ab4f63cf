import JSON
import MarketData
import SuperBotTesting
import SystemKit
import Testing
import TradingSettings

@testable import Backtest

@Suite struct ReportTests {
    func options(_ args: [String]) throws -> BacktestOptions { try BacktestOptions(arguments: args) }

    @Test func aRunWritesBothFilesSelfContained() throws {
        let dir = temporaryDirectory("report")
        defer { removeTree(dir) }
        var o = try options([
            "--synthetic", "ETHUSDT", "--bars", "2000", "--fast", "3", "--slow", "9", "--report-dir", dir, "--run-id",
            "r1",
        ])
        o.quiet = true
        let data = DataSet.synthetic(symbol: "ETHUSDT", bars: 2000, seed: 1, seconds: 60, startMs: 1_700_000_000_000)
        let outcome = try BacktestRunner(options: o, events: nil, progressOutput: .none).run(data)
        #expect(outcome.directory == dir + "/r1")
        let json = try JSON.parse(try FileSystem.readFile(dir + "/r1/report.json"))
        for key in ["parameters", "data", "statistics", "trades", "equity_curve", "notes", "statistics_order"] {
            #expect(json[key] != nil, "report.json has \(key)")
        }
        #expect(json["data"]?["fingerprint"]?.stringValue == data.summary.fingerprint)
        #expect(json["parameters"]?["fast"]?.intValue == 3)
        #expect(json["trades"]?.arrayValue?.count == outcome.report.result.trades.count)
        let html = try FileSystem.readString(dir + "/r1/report.html")
        #expect(html.contains("<svg") && html.contains("Sharpe Ratio") && html.contains("Trades ("))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"))
        #expect(outcome.text.contains("Return [%]") && outcome.text.contains("report: \(dir)/r1/report.json"))
        // A second run with the same id does not overwrite the first.
        let again = try BacktestRunner(options: o, events: nil, progressOutput: .none).run(data)
        #expect(again.directory == dir + "/r1-2")
    }

    @Test func theSweepReportHasAHeatmapAndTheBestRun() throws {
        let dir = temporaryDirectory("sweep")
        defer { removeTree(dir) }
        let o = try options([
            "--synthetic", "BTCUSDT", "--grid", "fast=2:6:1", "slow=5:20:5", "--rank", "return", "--report-dir", dir,
            "--run-id", "s", "--json",
        ])
        #expect(o.rank == "Return [%]")
        let data = DataSet.synthetic(symbol: "BTCUSDT", bars: 1500, seed: 3, seconds: 60, startMs: 1_700_000_000_000)
        let outcome = try BacktestRunner(options: o, events: nil, progressOutput: .none).run(data)
        let json = try JSON.parse(Array(outcome.text.utf8))
        #expect(json["sweep"]?["skipped"]?.intValue == 2)  // (5,5) and (6,5)
        #expect(json["sweep"]?["combinations"]?.intValue == 18)
        let html = try FileSystem.readString(dir + "/s/sweep.html")
        #expect(html.contains("<rect") && html.contains("2 skipped as invalid"))
    }

    @Test func usageErrors() {
        for args in [
            [], ["--data"], ["--data", "x", "--fast", "20", "--slow", "10"], ["--data", "x", "--commission", "0.5"],
            ["--data", "x", "--fill", "later"], ["--data", "x", "--sizing", "all"], ["--data", "x", "--bogus"],
            ["--data", "x", "--walk-forward", "train=10", "test=5"], ["--data", "x", "--rank", "luck"],
            ["--exchange", "--symbol", "BTCUSDT", "--bars", "5000"], ["--data", "x", "--cash", "-1"],
        ] {
            #expect(throws: UsageError.self, "\(args)") { _ = try BacktestOptions(arguments: args) }
        }
    }

    @Test func theLastDataSourceWinsSoARunCanOverrideTheModulesArguments() throws {
        let o = try options([
            "--exchange", "--symbol", "BTCUSDT", "--strategy", "default", "--data", "/x.csv", "--fast=4",
        ])
        #expect(o.source == .file("/x.csv") && o.strategy.fast == 4 && o.liveStrategy && o.needsConfig)
    }

    @Test func dataProblemsNameFileAndLine() throws {
        let dir = temporaryDirectory("data")
        defer { removeTree(dir) }
        let path = dir + "/bars.csv"
        let rows = (0..<20).map { i in "\(1_700_000_000 + (i < 10 ? i : i + 30) * 60),1,2,0.5,1,1" }
        try FileSystem.writeAtomically(
            path, Array(("timestamp,open,high,low,close,volume\n" + rows.joined(separator: "\n")).utf8))
        #expect {
            _ = try DataSet.load(csv: path, skipBadRows: false, maxGap: 7)
        } throws: { ($0 as? DataSet.DataError)?.description.hasPrefix("\(path):12: gap of 31 min") == true }
        let counted = try DataSet.load(csv: path, skipBadRows: true, maxGap: 7)
        #expect(counted.summary.gaps == 1 && counted.summary.largestGapMs == 31 * 60_000)
        #expect(try DataSet.load(csv: path, skipBadRows: false, maxGap: 0).bars.count == 20)
        try FileSystem.writeAtomically(
            path, Array("timestamp,open,high,low,close,volume\n1700000000,1,2,0.5,nan,1\n".utf8))
        #expect {
            _ = try DataSet.load(csv: path, skipBadRows: false, maxGap: 7)
        } throws: { ($0 as? DataSet.DataError)?.description.hasPrefix("\(path):2: close 'nan'") == true }
        // The same bars written differently have the same fingerprint.
        let a = DataSet(
            bars: [Bar(time: 1_700_000_000_000, price: 1), Bar(time: 1_700_000_060_000, price: 2)],
            summary: .init(source: "file", name: "a"))
        try FileSystem.writeAtomically(
            path, Array("2023-11-14T22:13:20Z,1,1,1,1,0\n2023-11-14 22:14:20,2,2,2,2,0\n".utf8))
        #expect(
            try DataSet.load(csv: path, skipBadRows: false, maxGap: 7).summary.fingerprint
                == a.summary.fingerprint)
    }
}
