import JSON
import MarketData
import Trading
import TradingSettings

/// One run, as written to `reports/<run-id>/report.json` and shown by `report.html`.
public struct BacktestReport: Sendable {
    public var runId: String
    public var created: String
    public var strategy: TradingConfig.Strategy
    public var model: BrokerModel
    public var data: DataSet.Summary
    public var bars: [Bar]
    public var result: BacktestResult
    public var statistics: Statistics
    public var notes: [String] = []

    public init(
        runId: String, created: String, strategy: TradingConfig.Strategy, model: BrokerModel, data: DataSet.Summary,
        bars: [Bar], result: BacktestResult, statistics: Statistics
    ) {
        self.runId = runId
        self.created = created
        self.strategy = strategy
        self.model = model
        self.data = data
        self.bars = bars
        self.result = result
        self.statistics = statistics
        if let open = result.openPosition {
            notes.append(
                "a position of \(open.size) opened at bar \(open.entryBar) was still open after the last bar: it counts in the equity, not in the trades (pass --close-at-end to close it there)"
            )
        }
        if result.unaffordable > 0 {
            notes.append("\(result.unaffordable) entries were skipped: the cash could not buy one lot")
        }
        if let at = result.outOfMoneyAt { notes.append("equity reached zero at bar \(at): the run stopped there") }
    }

    /// The most points an equity curve in report.json holds (longer runs are sampled evenly).
    public static let maxCurvePoints = 10_000

    public var json: JSON {
        let curveStep = max(1, (bars.count + BacktestReport.maxCurvePoints - 1) / BacktestReport.maxCurvePoints)
        var peak = -Double.infinity
        var curve: [JSON] = []
        for i in bars.indices {
            peak = max(peak, result.equity[i])
            guard i % curveStep == 0 || i == bars.count - 1 else { continue }
            let dd = peak > 0 ? (1 - result.equity[i] / peak) * 100 : 0
            curve.append([.string(ISO8601Time.format(ms: bars[i].time)), JSON(result.equity[i]), JSON(dd)])
        }
        return [
            "run_id": .string(runId), "created": .string(created),
            "parameters": parameters,
            "data": data.json,
            "statistics": .object(
                Dictionary(uniqueKeysWithValues: statistics.entries.map { ($0.name, $0.value.json) })),
            "statistics_order": .array(statistics.entries.map { .string($0.name) }),
            "statistics_text": .object(
                Dictionary(uniqueKeysWithValues: statistics.entries.map { ($0.name, .string($0.value.text)) })),
            "trades": .array(result.trades.map(\.json)),
            "open_position": result.openPosition.map { p in
                [
                    "size": JSON(p.size), "entry_bar": JSON(p.entryBar),
                    "entry_time": .string(ISO8601Time.format(ms: p.entryTime)), "entry_price": JSON(p.entryPrice),
                ]
            } ?? .null,
            "equity_curve": [
                "every": JSON(curveStep), "columns": ["time", "equity", "drawdown_pct"], "points": .array(curve),
            ],
            "notes": .array(notes.map { .string($0) }),
        ]
    }

    public var parameters: JSON {
        var p: [String: JSON] = [
            "strategy": .string(strategy.name), "cash": JSON(model.cash), "commission": JSON(model.commission),
            "fixed_fee": JSON(model.fixedFee), "slippage_bps": JSON(model.slippageBps),
            "lot_size": JSON(model.lotSize), "allow_short": .bool(model.allowShort),
            "fill": .string(model.fill.rawValue),
            "close_at_end": .bool(model.closeAtEnd),
        ]
        p["fast"] = JSON(strategy.fast)
        p["slow"] = JSON(strategy.slow)
        switch model.sizing {
        case .equity(let f):
            p["sizing"] = "equity"
            p["fraction"] = JSON(f)
        case .notional(let x):
            p["sizing"] = "notional"
            p["order_notional"] = JSON(x)
        }
        return .object(p)
    }

    /// The statistics as backtesting.py prints them: a name column and a value column.
    public var statisticsText: String {
        let width = statistics.entries.map(\.name.count).max() ?? 0
        return statistics.entries.map { entry in
            entry.name + String(repeating: " ", count: width - entry.name.count + 2) + entry.value.text
        }.joined(separator: "\n")
    }
}

extension Trade {
    public var json: JSON {
        [
            "size": JSON(size), "entry_bar": JSON(entryBar), "exit_bar": JSON(exitBar),
            "entry_time": .string(ISO8601Time.format(ms: entryTime)),
            "exit_time": .string(ISO8601Time.format(ms: exitTime)),
            "entry_price": JSON(entryPrice), "exit_price": JSON(exitPrice), "pnl": JSON(pnl),
            "return_pct": JSON(returnPct * 100), "commission": JSON(commission),
            "duration_s": JSON(Double(exitTime - entryTime) / 1000), "closed_at_end": .bool(closedAtEnd),
        ]
    }
}

extension Statistics.Value {
    /// Times as ISO 8601, durations in seconds, NaN as null.
    public var json: JSON {
        switch self {
        case .time(let t): .string(ISO8601Time.format(ms: t))
        case .duration(let ms): JSON(ms / 1000)
        case .number(let x): JSON(x)
        case .count(let n): JSON(n)
        }
    }

    /// pandas' rendering: `3116 days 00:00:00`, five decimals, `--` for NaN.
    public var text: String {
        switch self {
        case .time(let t):
            let iso = ISO8601Time.format(ms: t)
            return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(8))
        case .duration(let ms):
            guard ms.isFinite else { return "--" }
            let total = Int64(ms / 1000)
            let days = total / 86_400
            let rest = total % 86_400
            func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
            return "\(days) days \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
        case .number(let x):
            guard !x.isNaN else { return "--" }
            guard x.isFinite else { return x > 0 ? "inf" : "-inf" }
            return DecimalText.format(x, places: 5)
        case .count(let n): return String(n)
        }
    }
}
