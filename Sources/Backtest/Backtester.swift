import MarketData
import Trading

/// What one run produced: the closed trades, the equity at every bar's close, and each bar's signal.
public struct BacktestResult: Sendable {
    public var trades: [Trade]
    public var equity: [Double]
    public var signals: [Signal]
    /// The position still open after the last bar (not closed: `closeAtEnd` was off).
    public var openPosition: Broker.Position?
    /// Entries skipped because the cash could not buy one lot.
    public var unaffordable: Int
    /// The run stopped early because equity reached zero, at this bar.
    public var outOfMoneyAt: Int?
    /// Bars before the strategy's indicators all have values (buy & hold starts there).
    public var indicatorBars: Int
    /// Bars fed to the strategy only, before trading started (walk-forward test windows).
    public var tradeFrom: Int
}

/// Replays bars through a strategy and a broker, bar by bar, as the live engine would see them:
/// the signal of a closed bar fills at the next bar's open (or at its own close).
public enum Backtester {
    /// `tradeFrom`: bars before it only warm the strategy up. `progress` is called every
    /// `progressEvery` bars with the number done.
    public static func run(
        bars: [Bar], strategy: some Strategy, model: BrokerModel, tradeFrom: Int = 0,
        progressEvery: Int = 0, progress: ((Int) -> Void)? = nil
    ) -> BacktestResult {
        var strategy = strategy
        var broker = Broker(model: model)
        var equity = [Double](repeating: model.cash, count: bars.count)
        var signals = [Signal](repeating: .hold, count: bars.count)
        var pending = Signal.hold
        var outOfMoney: Int?
        for i in bars.indices {
            let bar = bars[i]
            if pending != .hold {
                broker.execute(pending, price: bar.open, bar: i, time: bar.time)
                pending = .hold
            }
            let value = broker.equity(at: bar.close)
            equity[i] = value
            if value <= 0 {
                // As backtesting.py: a wiped-out account stops trading.
                broker.close(price: bar.close, bar: i, time: bar.time)
                for j in i..<bars.count { equity[j] = 0 }
                outOfMoney = i
                break
            }
            let signal = strategy.update(bar)
            signals[i] = signal
            if signal != .hold, i >= tradeFrom {
                if model.fill == .close {
                    broker.execute(signal, price: bar.close, bar: i, time: bar.time)
                } else {
                    pending = signal
                }
            }
            if progressEvery > 0, (i + 1) % progressEvery == 0 { progress?(i + 1) }
        }
        if model.closeAtEnd, outOfMoney == nil, let last = bars.last {
            broker.close(price: last.close, bar: bars.count - 1, time: last.time, atEnd: true)
            equity[bars.count - 1] = broker.cash
        }
        return BacktestResult(
            trades: broker.trades, equity: equity, signals: signals, openPosition: broker.position,
            unaffordable: broker.unaffordable, outOfMoneyAt: outOfMoney, indicatorBars: strategy.indicatorBars,
            tradeFrom: tradeFrom)
    }
}
