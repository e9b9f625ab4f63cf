import MarketData
import Testing
import Trading
import TradingSettings

@testable import Backtest

@Suite struct SweepTests {
    static let data = DataSet.synthetic(
        symbol: "BTCUSDT", bars: 3000, seed: 11, seconds: 60, startMs: 1_700_000_000_000)
    let base = TradingConfig.Strategy(name: "sma_crossover", fast: 10, slow: 20)

    @Test func gridSpecs() throws {
        let g = try ParameterGrid(parsing: ["fast=5:30:5", "slow=10,20,40"])
        #expect(g.axes[0].values == [5, 10, 15, 20, 25, 30] && g.axes[1].values == [10, 20, 40])
        let (valid, invalid) = g.combinations(of: base)
        #expect(valid.count + invalid == 18)
        #expect(invalid == 8)  // fast ≥ slow: five with slow 10, three with slow 20
        #expect(valid.allSatisfy { $0.fast < $0.slow })
        for bad in [
            ["fast=5:1:1"], ["fast=0:5:1"], ["fast=5:10:0"], ["speed=1:2:1"], ["fast"], ["fast=a"],
            ["fast=1:2", "fast=3:4"], [],
        ] {
            #expect(throws: UsageError.self, "\(bad)") { _ = try ParameterGrid(parsing: bad) }
        }
    }

    @Test func theSweepRanksEveryValidCombinationAsSingleRunsWould() throws {
        let grid = try ParameterGrid(parsing: ["fast=2:8:2", "slow=6:18:4"])
        let sweep = Sweep.run(
            bars: Self.data.bars, base: base, model: model(cash: 10_000, lot: 0.00001), grid: grid, rank: "Return [%]")
        let (valid, invalid) = grid.combinations(of: base)
        #expect(sweep.rows.count == valid.count && sweep.skipped == invalid && invalid > 0)
        let scores = sweep.rows.map(\.score)
        #expect(scores == scores.sorted(by: >))
        // Each row is what a run of its own gives (the threads share nothing).
        for row in sweep.rows {
            let single = Backtester.run(
                bars: Self.data.bars, strategy: StrategyFactory.make(row.strategy),
                model: model(cash: 10_000, lot: 0.00001))
            #expect(close((single.equity.last! - 10_000) / 10_000 * 100, row.score))
        }
    }

    @Test func walkForwardReportsOnlyTheTestWindows() throws {
        let grid = try ParameterGrid(parsing: ["fast=2:6:2", "slow=8:16:4"])
        let wf = try WalkForward.run(
            bars: Self.data.bars, base: base, model: model(cash: 10_000, lot: 0.00001), grid: grid, rank: "Return [%]",
            train: 1000, test: 500)
        #expect(wf.windows.map(\.testFrom) == [1000, 1500, 2000, 2500])
        #expect(wf.windows.allSatisfy { $0.testFrom - $0.trainFrom == 1000 })
        #expect(wf.result.equity.count == 2000 && wf.firstTestBar == 1000)
        // Trades lie inside the out-of-sample bars and never span two windows.
        for t in wf.result.trades {
            #expect(t.entryBar >= 0 && t.exitBar < 2000)
            #expect(t.entryBar / 500 == t.exitBar / 500 || t.closedAtEnd)
        }
        // The cash carries over: window returns compound to the whole.
        let compounded = wf.windows.reduce(1.0) { $0 * (1 + $1.testReturn / 100) }
        #expect(close(compounded * 10_000, wf.result.equity.last!, 1e-9))
        #expect(throws: UsageError.self) {
            _ = try WalkForward.run(
                bars: Self.data.bars, base: base, model: model(), grid: grid, rank: "SQN", train: 3000, test: 1)
        }
    }
}
