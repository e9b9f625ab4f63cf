import Glibc
import MarketData
import SystemKit
import Testing

@testable import Backtest

/// Every statistic on a case small enough to work out by hand: six weekday bars, two trades.
@Suite struct StatisticsTests {
    // Mon 1 … Fri 5, Mon 8 January 2024.
    let days = [1, 2, 3, 4, 5, 8].map { CivilCalendar.days(year: 2024, month: 1, day: $0) * 86_400_000 }
    let closes = [10, 11, 10, 10.5, 12, 11.4]
    let equity = [100, 110, 99, 105, 120, 114.0]
    let day = 86_400_000.0

    var trades: [Trade] {
        [
            Trade(
                size: 10, entryBar: 0, exitBar: 1, entryTime: days[0], exitTime: days[1], entryPrice: 10, exitPrice: 11,
                commission: 0),
            Trade(
                size: 10, entryBar: 2, exitBar: 4, entryTime: days[2], exitTime: days[4], entryPrice: 10, exitPrice: 12,
                commission: 1),
        ]
    }

    @Test func eachStatisticByHand() throws {
        let s = Statistics(times: days, closes: closes, equity: equity, trades: trades, indicatorBars: 0)
        func n(_ name: String) -> Double { s.number(name)! }
        #expect(s["Start"] == .time(days[0]) && s["End"] == .time(days[5]))
        #expect(s["Duration"] == .duration(7 * day))
        #expect(close(n("Exposure Time [%]"), 5.0 / 6 * 100))  // bars 0–1 and 2–4
        #expect(n("Equity Final [$]") == 114 && n("Equity Peak [$]") == 120 && n("Commissions [$]") == 1)
        #expect(close(n("Return [%]"), 14) && close(n("Buy & Hold Return [%]"), 14))

        // Five daily returns (no weekend bars: 252 a year), compounded: 1.14^(1/5) a day.
        let r = [0.1, -0.1, 105.0 / 99 - 1, 120.0 / 105 - 1, 114.0 / 120 - 1]
        let g = pow(1.14, 0.2) - 1
        let annual = pow(1 + g, 252) - 1
        #expect(close(n("Return (Ann.) [%]"), annual * 100))
        let mean = r.reduce(0, +) / 5
        let variance = r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
        let volatility = (pow(variance + pow(1 + g, 2), 252) - pow(1 + g, 504)).squareRoot()
        #expect(close(n("Volatility (Ann.) [%]"), volatility * 100))
        #expect(close(n("CAGR [%]"), (pow(1.14, 365.25 / 7) - 1) * 100))
        #expect(close(n("Sharpe Ratio"), annual / volatility))
        // Downside deviation: the two losing days, over all five.
        #expect(close(n("Sortino Ratio"), annual / ((0.01 + 0.0025) / 5).squareRoot() / sqrt(252)))
        // One drawdown: from the peak on the 2nd (110) to the new peak on the 5th, 10 % deep, 3 days
        // long; the dip on the last day has no recovery bar after the peak and does not count.
        #expect(close(n("Max. Drawdown [%]"), -10) && close(n("Avg. Drawdown [%]"), -10))
        #expect(close(n("Calmar Ratio"), annual / 0.1))
        #expect(s["Max. Drawdown Duration"] == .duration(3 * day) && s["Avg. Drawdown Duration"] == .duration(3 * day))
        let e = (1..<6).map { log(equity[$0] / equity[$0 - 1]) }
        let m = (1..<6).map { log(closes[$0] / closes[$0 - 1]) }
        let me = e.reduce(0, +) / 5
        let mm = m.reduce(0, +) / 5
        var cov = 0.0
        var varM = 0.0
        for i in 0..<5 {
            cov += (e[i] - me) * (m[i] - mm)
            varM += (m[i] - mm) * (m[i] - mm)
        }
        let beta = cov / varM
        #expect(close(n("Beta"), beta) && close(n("Alpha [%]"), 14 - beta * 14))

        #expect(s["# Trades"] == .count(2) && n("Win Rate [%]") == 100)
        #expect(close(n("Best Trade [%]"), 19) && close(n("Worst Trade [%]"), 10))  // 20 % less 1/100 in fees
        #expect(close(n("Avg. Trade [%]"), ((1.1 * 1.19).squareRoot() - 1) * 100))
        // 1 and 2 days: the mean, 1.5 days, rounds up to the data's unit (a day).
        #expect(s["Max. Trade Duration"] == .duration(2 * day) && s["Avg. Trade Duration"] == .duration(2 * day))
        #expect(n("Profit Factor").isNaN)  // no losing trade
        #expect(close(n("Expectancy [%]"), 14.5))
        #expect(close(n("SQN"), 2.0.squareRoot() * 14.5 / (40.5).squareRoot()))  // PnL 10 and 19
        #expect(n("Kelly Criterion").isNaN)
        #expect(s.entries.map(\.name) == Statistics.names)
    }

    @Test func weekendBarsMeanCryptoYears() {
        // Seven days a week: 365 periods a year; a flat equity has no drawdown and NaN ratios.
        let times = (0..<14).map { Int64(19_723 + $0) * 86_400_000 }
        let s = Statistics(
            times: times, closes: Array(repeating: 5, count: 14), equity: Array(repeating: 100, count: 14), trades: [],
            indicatorBars: 0)
        #expect(s.number("Return (Ann.) [%]") == 0 && s.number("Volatility (Ann.) [%]") == 0)
        #expect(s.number("Sharpe Ratio")!.isNaN && s.number("Max. Drawdown [%]") == 0)
        #expect(s.number("Win Rate [%]")!.isNaN && s["# Trades"] == .count(0))
        #expect(Statistics.weekday(ms: times[5]) == 5)  // 2024-01-06 is a Saturday
    }

    @Test func intradayReturnsAreTakenPerCalendarDay() {
        // Hourly bars over three days: the last equity of each day counts.
        let times = (0..<72).map { Int64($0) * 3_600_000 }
        let equity = (0..<72).map { (i: Int) -> Double in 100 + Double(i / 24) * 10 + Double(i % 24) * 0.01 }
        let returns = Statistics.periodReturns(equity, times: times, freqDays: 0)
        #expect(returns.count == 2)
        #expect(close(returns[0], equity[47] / equity[23] - 1))
        #expect(Statistics.resolution(3_600_000) == 3_600_000 && Statistics.resolution(86_400_000) == 86_400_000)
        #expect(Statistics.resolution(90_000) == 1000)
    }
}
