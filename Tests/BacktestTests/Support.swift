import Backtest
import MarketData
import Trading

/// A strategy that says what it is told, bar by bar: broker tests choose the signals.
struct ScriptedStrategy: Strategy {
    var script: [Signal]
    var seen = 0
    var name: String { "scripted" }
    var warmupBars: Int { 0 }
    var indicatorBars: Int { 0 }
    var wantsLong: Bool? { nil }

    init(_ script: [Signal]) { self.script = script }

    mutating func update(_ bar: Bar) -> Signal {
        defer { seen += 1 }
        return seen < script.count ? script[seen] : .hold
    }
}

/// Daily bars from 2024-01-01 (a Monday) with the given opens and closes (high/low around them).
func dailyBars(_ prices: [(open: Double, close: Double)], startDay: Int = 19_723) -> [Bar] {
    prices.enumerated().map { i, p in
        Bar(
            time: Int64(startDay + i) * 86_400_000, open: p.open, high: max(p.open, p.close) + 1,
            low: min(p.open, p.close) - 1, close: p.close, volume: 1)
    }
}

func model(cash: Double = 1000, commission: Double = 0, lot: Double = 1, short: Bool = false) -> BrokerModel {
    var m = BrokerModel()
    m.cash = cash
    m.commission = commission
    m.lotSize = lot
    m.allowShort = short
    return m
}

func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}
