import MarketData
import Trading
import TradingSettings

/// Walk-forward optimisation: the grid is optimised on each training window and the winner
/// trades the test window that follows it, warmed up on the training bars; windows step by the
/// test length and the cash carries over. Only the test windows are reported (out of sample).
public struct WalkForward: Sendable {
    public struct Window: Sendable {
        public var trainFrom: Int
        public var testFrom: Int
        public var testTo: Int
        public var chosen: TradingConfig.Strategy
        public var trainScore: Double
        public var testReturn: Double
    }

    public var windows: [Window]
    /// The test windows end to end: `bars[firstTestBar...]`.
    public var firstTestBar: Int
    public var result: BacktestResult

    public static func run(
        bars: [Bar], base: TradingConfig.Strategy, model: BrokerModel, grid: ParameterGrid, rank: String,
        train: Int, test: Int, progress: (@Sendable (Int) -> Void)? = nil
    ) throws(UsageError) -> WalkForward {
        guard train >= 2, test >= 1, train + test <= bars.count else {
            throw UsageError(
                "--walk-forward train=\(train) test=\(test) needs train ≥ 2, test ≥ 1 and train + test ≤ the \(bars.count) bars"
            )
        }
        var windows: [Window] = []
        var equity: [Double] = []
        var trades: [Trade] = []
        var signals: [Signal] = []
        var unaffordable = 0
        var cash = model.cash
        var start = 0
        while start + train < bars.count {
            let testTo = min(start + train + test, bars.count)
            let sweep = Sweep.run(
                bars: Array(bars[start..<(start + train)]), base: base, model: model, grid: grid, rank: rank)
            guard let best = sweep.rows.first else {
                throw UsageError("--grid leaves no valid combination (fast must be below slow)")
            }
            var windowModel = model
            windowModel.cash = cash
            windowModel.closeAtEnd = true
            let run = Backtester.run(
                bars: Array(bars[start..<testTo]), strategy: StrategyFactory.make(best.strategy), model: windowModel,
                tradeFrom: train)
            // Window bar j is bars[start + j]; the out-of-sample series starts at bars[train].
            equity += run.equity[train...]
            signals += run.signals[train...]
            trades += run.trades.map { $0.shifted(by: start - train) }
            unaffordable += run.unaffordable
            let endCash = run.equity.last!
            windows.append(
                Window(
                    trainFrom: start, testFrom: start + train, testTo: testTo, chosen: best.strategy,
                    trainScore: best.score, testReturn: (endCash / cash - 1) * 100))
            cash = endCash
            progress?(windows.count)
            if cash <= 0 { break }
            start += test
        }
        let result = BacktestResult(
            trades: trades, equity: equity, signals: signals, openPosition: nil, unaffordable: unaffordable,
            outOfMoneyAt: cash <= 0 ? equity.count - 1 : nil, indicatorBars: 0, tradeFrom: 0)
        return WalkForward(windows: windows, firstTestBar: train, result: result)
    }
}
