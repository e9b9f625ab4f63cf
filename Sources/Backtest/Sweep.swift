import Dispatch
import MarketData
import Synchronization
import Trading
import TradingSettings

/// A parameter sweep: every valid combination of a grid run over the same bars on all cores,
/// ranked by one statistic (higher is better; NaN last).
public struct Sweep: Sendable {
    public struct Row: Sendable {
        public var strategy: TradingConfig.Strategy
        public var statistics: Statistics
        public var score: Double
    }

    public var rows: [Row]
    public var skipped: Int
    public var rank: String

    /// `progress` gets the number of combinations done (from any thread).
    public static func run(
        bars: [Bar], base: TradingConfig.Strategy, model: BrokerModel, grid: ParameterGrid, rank: String,
        progress: (@Sendable (Int) -> Void)? = nil
    ) -> Sweep {
        let (combos, skipped) = grid.combinations(of: base)
        let slots = Mutex([Row?](repeating: nil, count: combos.count))
        let done = Atomic(0)
        let times = bars.map(\.time)
        let closes = bars.map(\.close)
        DispatchQueue.concurrentPerform(iterations: combos.count) { i in
            let strategy = combos[i]
            let result = Backtester.run(bars: bars, strategy: StrategyFactory.make(strategy), model: model)
            let stats = Statistics(
                times: times, closes: closes, equity: result.equity, trades: result.trades,
                indicatorBars: result.indicatorBars)
            let score = stats.number(rank) ?? .nan
            slots.withLock { $0[i] = Row(strategy: strategy, statistics: stats, score: score) }
            let n = done.add(1, ordering: .relaxed).newValue
            progress?(n)
        }
        let rows = slots.withLock { $0.compactMap { $0 } }.sorted { a, b in
            if a.score.isNaN != b.score.isNaN { return !a.score.isNaN }
            if a.score != b.score { return a.score > b.score }
            return (a.strategy.fast, a.strategy.slow) < (b.strategy.fast, b.strategy.slow)
        }
        return Sweep(rows: rows, skipped: skipped, rank: rank)
    }
}

extension Trade {
    /// The same trade with its bar indexes moved (a run on a slice of the bars).
    func shifted(by offset: Int) -> Trade {
        var t = self
        t.entryBar += offset
        t.exitBar += offset
        return t
    }
}
