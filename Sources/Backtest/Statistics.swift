import Glibc
import MarketData
import SystemKit

/// The figures backtesting.py prints after a run, under its names and with its definitions
/// (`backtesting/_stats.py`, 0.6.6), so a user can compare the two side by side.
public struct Statistics: Sendable {
    public enum Value: Sendable, Equatable {
        case time(Int64)
        /// Milliseconds.
        case duration(Double)
        case number(Double)
        case count(Int)

        public var number: Double? {
            switch self {
            case .number(let x), .duration(let x): x
            case .count(let n): Double(n)
            case .time(let t): Double(t)
            }
        }
    }

    public private(set) var entries: [(name: String, value: Value)] = []

    /// Every statistic, in backtesting.py's order.
    public static let names = [
        "Start", "End", "Duration", "Exposure Time [%]", "Equity Final [$]", "Equity Peak [$]", "Commissions [$]",
        "Return [%]", "Buy & Hold Return [%]", "Return (Ann.) [%]", "Volatility (Ann.) [%]", "CAGR [%]",
        "Sharpe Ratio", "Sortino Ratio", "Calmar Ratio", "Alpha [%]", "Beta", "Max. Drawdown [%]",
        "Avg. Drawdown [%]", "Max. Drawdown Duration", "Avg. Drawdown Duration", "# Trades", "Win Rate [%]",
        "Best Trade [%]", "Worst Trade [%]", "Avg. Trade [%]", "Max. Trade Duration", "Avg. Trade Duration",
        "Profit Factor", "Expectancy [%]", "SQN", "Kelly Criterion",
    ]

    public subscript(name: String) -> Value? { entries.first { $0.name == name }?.value }
    public func number(_ name: String) -> Double? { self[name]?.number }

    mutating func add(_ name: String, _ value: Value) { entries.append((name, value)) }
    mutating func add(_ name: String, _ x: Double) { entries.append((name, .number(x))) }

    /// `times`, `closes` and `equity` cover the same bars; `trades` index into them.
    public init(times: [Int64], closes: [Double], equity: [Double], trades: [Trade], indicatorBars: Int) {
        let n = equity.count
        precondition(n > 0 && times.count == n && closes.count == n)
        let period = Statistics.period(times)
        let unit = Statistics.resolution(period)

        var peak = -Double.infinity
        var dd = [Double](repeating: 0, count: n)
        var maxDrawdown = 0.0
        var ddIsNaN = false
        for i in 0..<n {
            if equity[i] > peak { peak = equity[i] }
            let d = 1 - equity[i] / peak
            dd[i] = d
            if d > maxDrawdown { maxDrawdown = d }
            if d.isNaN { ddIsNaN = true }
        }
        // numpy's max propagates NaN, and nan_to_num makes it 0.
        if ddIsNaN { maxDrawdown = 0 }
        let (ddDurations, ddPeaks) = Statistics.drawdownPeriods(dd, times: times)

        add("Start", .time(times[0]))
        add("End", .time(times[n - 1]))
        add("Duration", .duration(Double(times[n - 1] - times[0])))
        add("Exposure Time [%]", Double(Statistics.barsInTrades(trades)) / Double(n) * 100)
        add("Equity Final [$]", equity[n - 1])
        add("Equity Peak [$]", peak)
        let commissions = trades.reduce(0) { $0 + $1.commission }
        add("Commissions [$]", commissions)
        add("Return [%]", (equity[n - 1] - equity[0]) / equity[0] * 100)
        let first = min(indicatorBars, n - 1)
        let buyAndHold = (closes[n - 1] - closes[first]) / closes[first] * 100
        add("Buy & Hold Return [%]", buyAndHold)

        // Returns per calendar period (day, or week/month/year for coarser bars), compounded.
        let freqDays = Int((period / 86_400_000).rounded(.down))
        var weekendBars = 0
        for t in times where Statistics.weekday(ms: t) >= 5 { weekendBars += 1 }
        let weekendShare = Double(weekendBars) / Double(n)
        let annualPeriods: Double =
            freqDays == 7 ? 52 : freqDays == 31 ? 12 : freqDays == 365 ? 1 : weekendShare > 2.0 / 7 * 0.6 ? 365 : 252
        let returns = Statistics.periodReturns(equity, times: times, freqDays: freqDays)
        let g = Statistics.geometricMean(returns)
        let annualReturn = pow(1 + g, annualPeriods) - 1
        add("Return (Ann.) [%]", annualReturn * 100)
        let variance = Statistics.variance(returns)
        let volatility =
            (pow(variance + pow(1 + g, 2), annualPeriods) - pow(1 + g, 2 * annualPeriods)).squareRoot() * 100
        add("Volatility (Ann.) [%]", volatility)
        let durationMs = Double(times[n - 1] - times[0])
        let days = (durationMs / 1000).rounded(.down) / 86_400
        let years = days / 365.25
        add("CAGR [%]", years != 0 ? (pow(equity[n - 1] / equity[0], 1 / years) - 1) * 100 : .nan)
        add("Sharpe Ratio", annualReturn * 100 / (volatility == 0 ? .nan : volatility))
        let downside =
            returns.isEmpty ? Double.nan : returns.reduce(0) { $0 + pow(min($1, 0), 2) } / Double(returns.count)
        add("Sortino Ratio", annualReturn / (downside.squareRoot() * annualPeriods.squareRoot()))
        add("Calmar Ratio", annualReturn / (maxDrawdown == 0 ? .nan : maxDrawdown))
        let beta = Statistics.beta(equity: equity, closes: closes)
        add("Alpha [%]", (equity[n - 1] - equity[0]) / equity[0] * 100 - beta * buyAndHold)
        add("Beta", beta)
        add("Max. Drawdown [%]", -maxDrawdown * 100)
        add("Avg. Drawdown [%]", -Statistics.mean(ddPeaks) * 100)
        add("Max. Drawdown Duration", .duration(Statistics.ceil(ddDurations.max() ?? .nan, unit)))
        add("Avg. Drawdown Duration", .duration(Statistics.ceil(Statistics.mean(ddDurations), unit)))

        add("# Trades", .count(trades.count))
        let pl = trades.map(\.pnl)
        let r = trades.map(\.returnPct)
        let winRate = trades.isEmpty ? Double.nan : Double(pl.filter { $0 > 0 }.count) / Double(trades.count)
        add("Win Rate [%]", winRate * 100)
        add("Best Trade [%]", (r.max() ?? .nan) * 100)
        add("Worst Trade [%]", (r.min() ?? .nan) * 100)
        add("Avg. Trade [%]", Statistics.geometricMean(r) * 100)
        let durations = trades.map { Double($0.exitTime - $0.entryTime) }
        add("Max. Trade Duration", .duration(Statistics.ceil(durations.max() ?? .nan, unit)))
        add("Avg. Trade Duration", .duration(Statistics.ceil(Statistics.mean(durations), unit)))
        let gains = r.filter { $0 > 0 }.reduce(0, +)
        let losses = abs(r.filter { $0 < 0 }.reduce(0, +))
        add("Profit Factor", gains / (losses == 0 ? .nan : losses))
        add("Expectancy [%]", Statistics.mean(r) * 100)
        let sd = Statistics.variance(pl).squareRoot()
        add("SQN", Double(trades.count).squareRoot() * Statistics.mean(pl) / (sd == 0 ? .nan : sd))
        let avgWin = Statistics.mean(pl.filter { $0 > 0 })
        let avgLoss = Statistics.mean(pl.filter { $0 < 0 })
        add("Kelly Criterion", winRate - (1 - winRate) / (avgWin / -avgLoss))
    }

    // MARK: Definitions

    /// The median bar interval over the last 100 bars (pandas' `_data_period`), in ms.
    static func period(_ times: [Int64]) -> Double {
        let tail = times.suffix(100)
        let diffs = zip(tail.dropFirst(), tail).map { Double($0 - $1) }.sorted()
        guard !diffs.isEmpty else { return .nan }
        let m = diffs.count / 2
        return diffs.count % 2 == 1 ? diffs[m] : (diffs[m - 1] + diffs[m]) / 2
    }

    /// The smallest unit the period has a part of (pandas' `resolution_string`): durations are
    /// rounded up to it.
    static func resolution(_ period: Double) -> Double {
        guard period.isFinite else { return 1 }
        for unit in [86_400_000.0, 3_600_000, 60_000, 1000] where period.truncatingRemainder(dividingBy: unit) == 0 {
            return unit
        }
        return 1
    }

    static func ceil(_ ms: Double, _ unit: Double) -> Double { ms.isFinite ? (ms / unit).rounded(.up) * unit : ms }

    /// Days since the epoch (floored).
    static func day(ms: Int64) -> Int {
        let (q, r) = ms.quotientAndRemainder(dividingBy: 86_400_000)
        return Int(r < 0 ? q - 1 : q)
    }

    /// Monday = 0 … Sunday = 6, in UTC.
    static func weekday(ms: Int64) -> Int { ((day(ms: ms) % 7) + 7 + 3) % 7 }

    /// Bars with a position: each trade from its entry bar to its exit bar, a bar shared by an
    /// exit and the next entry counted once (backtesting.py marks an array).
    static func barsInTrades(_ trades: [Trade]) -> Int {
        var count = 0
        var covered = -1
        for t in trades.sorted(by: { $0.entryBar < $1.entryBar }) {
            let from = max(t.entryBar, covered + 1)
            if t.exitBar >= from { count += t.exitBar - from + 1 }
            covered = max(covered, t.exitBar)
        }
        return count
    }

    /// pandas `resample(freq).last().dropna().pct_change().dropna()`: the last equity of each
    /// calendar day (week ending Sunday, month, year), period over period.
    static func periodReturns(_ equity: [Double], times: [Int64], freqDays: Int) -> [Double] {
        func bucket(_ ms: Int64) -> Int {
            let day = Statistics.day(ms: ms)
            switch freqDays {
            case 7: return (day - 4) >= 0 ? (day - 4) / 7 : (day - 4 - 6) / 7
            case 31:
                let c = CivilCalendar.civil(fromDays: Int64(day))
                return c.year * 12 + c.month
            case 365: return CivilCalendar.civil(fromDays: Int64(day)).year
            default: return day
            }
        }
        var lasts: [Double] = []
        var current = Int.min
        for i in equity.indices {
            let b = bucket(times[i])
            if b != current {
                lasts.append(equity[i])
                current = b
            } else {
                lasts[lasts.count - 1] = equity[i]
            }
        }
        guard lasts.count > 1 else { return [] }
        return (1..<lasts.count).map { lasts[$0] / lasts[$0 - 1] - 1 }
    }

    /// exp(mean(log(1 + r))) - 1; 0 when a return wipes out (≤ -100 %), NaN without returns.
    static func geometricMean(_ returns: [Double]) -> Double {
        guard !returns.isEmpty else { return .nan }
        var sum = 0.0
        for r in returns {
            let x = (r.isNaN ? 0 : r) + 1
            if x <= 0 { return 0 }
            sum += log(x)
        }
        return exp(sum / Double(returns.count)) - 1
    }

    static func mean(_ xs: [Double]) -> Double {
        xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
    }

    /// Sample variance (ddof 1), NaN below two values.
    static func variance(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return .nan }
        let m = mean(xs)
        return xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    }

    /// cov(equity log returns, market log returns) / var(market log returns).
    static func beta(equity: [Double], closes: [Double]) -> Double {
        guard equity.count > 2 else { return .nan }
        var e = [Double](repeating: 0, count: equity.count - 1)
        var m = [Double](repeating: 0, count: equity.count - 1)
        for i in 1..<equity.count {
            let ratio = equity[i] / equity[i - 1]
            // Flat stretches (no position) are most bars: log(1) is 0 without the call.
            e[i - 1] = ratio == 1 ? 0 : log(ratio)
            m[i - 1] = log(closes[i] / closes[i - 1])
        }
        let me = mean(e)
        let mm = mean(m)
        var cov = 0.0
        var varM = 0.0
        for i in e.indices {
            cov += (e[i] - me) * (m[i] - mm)
            varM += (m[i] - mm) * (m[i] - mm)
        }
        return cov / varM
    }

    /// Each drawdown between two equity peaks (and the one still open at the end): its length
    /// in time and its depth (backtesting.py's `compute_drawdown_duration_peaks`).
    static func drawdownPeriods(_ dd: [Double], times: [Int64]) -> (durations: [Double], peaks: [Double]) {
        var marks = dd.indices.filter { dd[$0] == 0 }
        if marks.last != dd.count - 1 { marks.append(dd.count - 1) }
        var durations: [Double] = []
        var peaks: [Double] = []
        for k in marks.indices.dropFirst() where marks[k] > marks[k - 1] + 1 {
            durations.append(Double(times[marks[k]] - times[marks[k - 1]]))
            peaks.append(dd[marks[k - 1]...marks[k]].max()!)
        }
        if durations.isEmpty {
            // backtesting.py then reports the drawdowns themselves, with zeros left out.
            return ([], dd.filter { $0 != 0 })
        }
        return (durations, peaks)
    }
}
