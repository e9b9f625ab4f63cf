import JSON
import MarketData
import SuperBotTesting
import SystemKit
import Testing
import Trading
import TradingSettings

@testable import Backtest

/// Trade by trade and figure by figure against backtesting.py 0.6.6 (PyPI, in .build/test-venv,
/// installed by `make test-deps`) on its bundled GOOG sample with its SmaCross: long/short
/// reversals, the whole cash per entry in whole shares, fills at the next open, fees at entry
/// and exit. The oracle prints its trades and statistics as JSON.
@Suite struct BacktestingPyParityTests {
    static let root = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
    static let python = "/" + root + "/.build/test-venv/bin/python"

    @Test(arguments: [(10, 20, 10_000.0, 0.002), (5, 30, 10_000.0, 0.001), (20, 50, 100_000.0, 0)])
    func goog(fast: Int, slow: Int, cash: Double, commission: Double) throws {
        #expect(
            FileSystem.exists(Self.python),
            "backtesting.py is missing: run `make test-deps` (creates .build/test-venv with backtesting)")
        guard FileSystem.exists(Self.python) else { return }
        let out = try runProgram(
            Self.python,
            [
                "/" + Self.root + "/Tests/BacktestTests/backtesting_oracle.py", "\(fast)", "\(slow)", "\(cash)",
                "\(commission)",
            ])
        // The JSON is the last line (warnings may come before it).
        let oracle = try JSON.parse(Array(out.split(separator: "\n").last!.utf8))
        let data = try DataSet.load(csv: oracle["csv"]!.stringValue!, skipBadRows: false, maxGap: 7)
        #expect(data.bars.count == 2148)

        var m = BrokerModel()
        m.cash = cash
        m.commission = commission
        m.lotSize = 1
        m.allowShort = true
        let strategy = TradingConfig.Strategy(name: "sma_crossover", fast: fast, slow: slow)
        let result = Backtester.run(bars: data.bars, strategy: StrategyFactory.make(strategy), model: m)
        let stats = Statistics(
            times: data.bars.map(\.time), closes: data.bars.map(\.close), equity: result.equity, trades: result.trades,
            indicatorBars: result.indicatorBars)

        let theirs = oracle["trades"]!.arrayValue!
        #expect(result.trades.count == theirs.count)
        #expect(theirs.count > 30, "the sample should trade often")
        for (i, (ours, t)) in zip(result.trades, theirs).enumerated() {
            #expect(ours.size == t["size"]!.doubleValue!, "trade \(i) size")
            #expect(
                ours.entryBar == t["entry_bar"]!.intValue! && ours.exitBar == t["exit_bar"]!.intValue!,
                "trade \(i) bars")
            #expect(
                ours.entryPrice == t["entry_price"]!.doubleValue! && ours.exitPrice == t["exit_price"]!.doubleValue!)
            #expect(abs(ours.pnl - t["pnl"]!.doubleValue!) < 0.005, "trade \(i) PnL to the cent")
            #expect(abs(ours.commission - t["commission"]!.doubleValue!) < 0.005, "trade \(i) fees")
            #expect(close(ours.returnPct * 100, t["return_pct"]!.doubleValue!, 1e-9))
        }
        var compared = 0
        for (name, value) in oracle["stats"]!.objectValue! {
            guard let ours = stats[name] else {
                Issue.record("no statistic '\(name)'")
                continue
            }
            compared += 1
            switch (ours, value) {
            case (.time(let t), .string(let s)): #expect(ISO8601Time.format(ms: t).hasPrefix(s), "\(name)")
            case (.duration(let ms), _): #expect(ms / 1000 == value.doubleValue, "\(name)")
            case (_, .null): #expect(ours.number!.isNaN, "\(name): theirs NaN, ours \(ours)")
            default:
                let a = ours.number!
                let b = value.doubleValue!
                #expect(close(a, b, 1e-9), "\(name): ours \(a), backtesting.py \(b)")
                if name.contains("[$]") { #expect(abs(a - b) < 0.005, "\(name) to the cent") }
            }
        }
        #expect(compared >= 30)
    }
}
