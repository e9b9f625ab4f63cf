import MarketData

/// `report.html` and `sweep.html`: one self-contained page each (inline CSS and SVG, no script,
/// nothing fetched), readable offline and from the web UI.
public enum ReportPage {
    public static func html(_ report: BacktestReport) -> String {
        let bars = report.bars
        let closes = bars.map(\.close)
        var peak = -Double.infinity
        let drawdown = report.result.equity.map { e -> Double in
            peak = max(peak, e)
            return peak > 0 ? -(1 - e / peak) * 100 : 0
        }
        var markers: [(index: Int, price: Double, kind: String)] = []
        for t in report.result.trades {
            markers.append((t.entryBar, t.entryPrice, t.isLong ? "long" : "short"))
            markers.append((t.exitBar, t.exitPrice, "exit"))
        }
        let first = bars.first.map { ISO8601Time.format(ms: $0.time) } ?? ""
        let last = bars.last.map { ISO8601Time.format(ms: $0.time) } ?? ""
        var body = "<h1>Backtest \(escape(report.runId))</h1>\n"
        body +=
            "<p>\(escape(report.strategy.name)) fast=\(report.strategy.fast) slow=\(report.strategy.slow) on \(escape(report.data.name)): \(bars.count) bars, \(first) … \(last). Data \(escape(report.data.fingerprint)).</p>\n"
        for note in report.notes { body += "<p class=note>\(escape(note))</p>\n" }
        body += "<div class=grid><div><h2>Statistics</h2><table>"
        for e in report.statistics.entries {
            body += "<tr><th>\(escape(e.name))</th><td>\(escape(e.value.text))</td></tr>"
        }
        body += "</table><h2>Parameters</h2><table>"
        if case .object(let p) = report.parameters {
            for key in p.keys.sorted() { body += "<tr><th>\(key)</th><td>\(escape(p[key]!.serialized()))</td></tr>" }
        }
        body += "</table></div><div>"
        body += "<h2>Price, entries ▲▼ and exits ●</h2>" + chart(closes, markers: markers, height: 260, color: "#345")
        body += "<h2>Equity</h2>" + chart(report.result.equity, markers: [], height: 180, color: "#2a7")
        body += "<h2>Drawdown [%]</h2>" + chart(drawdown, markers: [], height: 120, color: "#c33")
        body += "</div></div>\n<h2>Trades (\(report.result.trades.count))</h2>\n" + tradeTable(report.result.trades)
        return page(title: "Backtest \(report.runId)", body: body)
    }

    public static func html(sweep: Sweep, grid: ParameterGrid, runId: String, dataName: String) -> String {
        var body = "<h1>Sweep \(escape(runId))</h1>\n"
        body +=
            "<p>\(sweep.rows.count) combinations on \(escape(dataName)), ranked by \(escape(sweep.rank)); \(sweep.skipped) skipped as invalid (fast ≥ slow).</p>\n"
        if grid.axes.count == 2 {
            body +=
                "<h2>\(escape(sweep.rank)) over \(grid.axes[0].name) × \(grid.axes[1].name)</h2>" + heatmap(sweep, grid)
        }
        body += "<h2>Best \(min(100, sweep.rows.count))</h2><table><tr><th>#</th><th>fast</th><th>slow</th>"
        let columns = ["Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "# Trades", "Win Rate [%]", "SQN"]
        for c in columns { body += "<th>\(escape(c))</th>" }
        body += "</tr>"
        for (i, row) in sweep.rows.prefix(100).enumerated() {
            body += "<tr><td>\(i + 1)</td><td>\(row.strategy.fast)</td><td>\(row.strategy.slow)</td>"
            for c in columns { body += "<td>\(escape(row.statistics[c]?.text ?? "--"))</td>" }
            body += "</tr>"
        }
        body += "</table>"
        return page(title: "Sweep \(runId)", body: body)
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums}
        th,td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}
        th{text-align:left;font-weight:600}
        .grid{display:grid;grid-template-columns:minmax(300px,auto) 1fr;gap:2em}
        .note{background:#fff4d6;padding:4px 8px}
        svg{width:100%;background:#fafafa;border:1px solid #eee}
        .long{fill:#2a7}.short{fill:#c33}.exit{fill:#555}
        </style></head><body>
        \(body)
        </body></html>

        """
    }

    /// A line chart of `values` (sampled to at most 1,500 points) with markers at bar indexes.
    static func chart(
        _ values: [Double], markers: [(index: Int, price: Double, kind: String)], height: Double, color: String
    )
        -> String
    {
        let width = 1000.0
        let finite = values.filter(\.isFinite)
        guard values.count > 1, var low = finite.min(), var high = finite.max() else { return "<p>no data</p>" }
        for m in markers {
            low = min(low, m.price)
            high = max(high, m.price)
        }
        if high == low { high = low + 1 }
        let n = Double(values.count - 1)
        func x(_ i: Int) -> String { fmt(Double(i) / n * width) }
        func y(_ v: Double) -> String { fmt(height - 4 - (v - low) / (high - low) * (height - 8)) }
        let step = max(1, values.count / 1500)
        var path = ""
        for i in stride(from: 0, to: values.count, by: step) where values[i].isFinite {
            path += (path.isEmpty ? "M" : "L") + x(i) + "," + y(values[i])
        }
        path += "L" + x(values.count - 1) + "," + y(values[values.count - 1])
        var svg =
            "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" preserveAspectRatio=\"none\" role=img><path d=\"\(path)\" fill=none stroke=\"\(color)\" stroke-width=1.2 vector-effect=non-scaling-stroke/>"
        for m in markers.prefix(4000) {
            let cx = x(m.index)
            let cy = y(m.price)
            switch m.kind {
            case "exit": svg += "<circle class=exit cx=\(cx) cy=\(cy) r=2.5/>"
            case "long": svg += "<path class=long d=\"M\(cx),\(cy)m-4,6l4,-8l4,8z\"/>"
            default: svg += "<path class=short d=\"M\(cx),\(cy)m-4,-6l4,8l4,-8z\"/>"
            }
        }
        svg +=
            "<text x=4 y=14 font-size=11>\(escape(DecimalText.format(high, places: 2)))</text><text x=4 y=\(Int(height) - 6) font-size=11>\(escape(DecimalText.format(low, places: 2)))</text></svg>"
        return svg
    }

    static func heatmap(_ sweep: Sweep, _ grid: ParameterGrid) -> String {
        let xs = grid.axes[0].values
        let ys = grid.axes[1].values
        var cells: [String: Double] = [:]
        for row in sweep.rows {
            let key =
                grid.axes[0].name == "fast"
                ? "\(row.strategy.fast),\(row.strategy.slow)" : "\(row.strategy.slow),\(row.strategy.fast)"
            cells[key] = row.score
        }
        let scores = cells.values.filter(\.isFinite)
        let low = scores.min() ?? 0
        let high = max(scores.max() ?? 1, low + 1e-12)
        let cw = max(4.0, min(40, 900 / Double(xs.count)))
        let ch = max(4.0, min(24, 600 / Double(ys.count)))
        let w = 50 + cw * Double(xs.count)
        let h = 30 + ch * Double(ys.count)
        var svg = "<svg viewBox=\"0 0 \(fmt(w)) \(fmt(h))\" style=\"max-width:\(fmt(w))px\" role=img>"
        for (j, yv) in ys.enumerated() {
            for (i, xv) in xs.enumerated() {
                let px = 50 + Double(i) * cw
                let py = Double(j) * ch
                guard let s = cells["\(xv),\(yv)"] else {
                    svg += "<rect x=\(fmt(px)) y=\(fmt(py)) width=\(fmt(cw)) height=\(fmt(ch)) fill=\"#eee\"/>"
                    continue
                }
                let t = s.isFinite ? (s - low) / (high - low) : 0
                let color = "hsl(\(Int(t * 120)),70%,\(s.isFinite ? 50 : 85)%)"
                svg +=
                    "<rect x=\(fmt(px)) y=\(fmt(py)) width=\(fmt(cw)) height=\(fmt(ch)) fill=\"\(color)\"><title>\(grid.axes[0].name)=\(xv) \(grid.axes[1].name)=\(yv): \(escape(Statistics.Value.number(s).text))</title></rect>"
            }
            if j % max(1, ys.count / 10) == 0 {
                svg += "<text x=2 y=\(fmt(Double(j) * ch + ch * 0.8)) font-size=10>\(yv)</text>"
            }
        }
        for (i, xv) in xs.enumerated() where i % max(1, xs.count / 10) == 0 {
            svg += "<text x=\(fmt(50 + Double(i) * cw)) y=\(fmt(h - 16)) font-size=10>\(xv)</text>"
        }
        svg +=
            "<text x=50 y=\(fmt(h - 2)) font-size=11>\(grid.axes[0].name) → (rows: \(grid.axes[1].name)); red low, green high</text></svg>"
        return svg
    }

    static func tradeTable(_ trades: [Trade]) -> String {
        var t =
            "<table><tr><th>#</th><th>side</th><th>size</th><th>entry</th><th>entry price</th><th>exit</th><th>exit price</th><th>PnL</th><th>return %</th><th>fees</th></tr>"
        for (i, trade) in trades.prefix(2000).enumerated() {
            t +=
                "<tr><td>\(i + 1)</td><td>\(trade.isLong ? "long" : "short")</td><td>\(fmt(abs(trade.size)))</td><td>\(ISO8601Time.format(ms: trade.entryTime))</td><td>\(DecimalText.format(trade.entryPrice, places: 4))</td><td>\(ISO8601Time.format(ms: trade.exitTime))\(trade.closedAtEnd ? " (end)" : "")</td><td>\(DecimalText.format(trade.exitPrice, places: 4))</td><td>\(DecimalText.format(trade.pnl, places: 2))</td><td>\(DecimalText.format(trade.returnPct * 100, places: 2))</td><td>\(DecimalText.format(trade.commission, places: 2))</td></tr>"
        }
        if trades.count > 2000 { t += "<tr><td colspan=10>… \(trades.count - 2000) more in report.json</td></tr>" }
        return t + "</table>"
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
