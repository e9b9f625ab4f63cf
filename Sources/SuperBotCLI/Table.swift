import JSON

/// Plain-text rendering for a terminal.
enum Table {
    static func modules(_ modules: [JSON]) -> String {
        var rows = [["NAME", "STATE", "PID", "UPTIME", "CPU", "RSS", "RESTARTS", "INFO"]]
        for m in modules {
            let state = m["state"]?.stringValue ?? "?"
            let info = state == "running" ? (m["health"]?.stringValue ?? "") : (m["reason"]?.stringValue ?? "")
            rows.append([
                m["name"]?.stringValue ?? "?", state, m["pid"]?.intValue.map(String.init) ?? "-",
                m["uptime_seconds"]?.intValue.map(duration) ?? "-",
                m["cpu_percent"]?.doubleValue.map { formatted($0) + "%" } ?? "-",
                m["rss_bytes"]?.doubleValue.map(bytes) ?? "-",
                m["restarts"]?.intValue.map(String.init) ?? "0", info,
            ])
        }
        return render(rows)
    }

    static func engines(_ engines: [JSON]) -> String {
        var rows = [
            ["SYMBOL", "STATUS", "POSITION", "PRICE", "EQUITY", "PNL", "TRADES", "ERRORS", "RESTARTS", "BEAT", "INFO"]
        ]
        for e in engines {
            let pnl =
                (e["realized_pnl"]?.doubleValue ?? 0) + (e["unrealized_pnl"]?.doubleValue ?? 0)
                - (e["fees"]?.doubleValue ?? 0)
            let status = e["status"]?.stringValue ?? "?"
            rows.append([
                e["symbol"]?.stringValue ?? "?", status, number(e["position"]?.doubleValue ?? 0, digits: 6),
                number(e["last_price"]?.doubleValue ?? 0, digits: 4), number(e["equity"]?.doubleValue ?? 0, digits: 2),
                signed(pnl),
                e["trade_count"]?.intValue.map(String.init) ?? "0", e["error_count"]?.intValue.map(String.init) ?? "0",
                e["restart_count"]?.intValue.map(String.init) ?? "0",
                e["heartbeat_age"]?.doubleValue.map { formatted($0) + "s" } ?? "-",
                status == "running" ? "" : (e["reason"]?.stringValue ?? e["last_error"]?.stringValue ?? ""),
            ])
        }
        return render(rows)
    }

    static func positions(_ positions: [JSON]) -> String {
        var rows = [["SYMBOL", "POSITION", "AVG PRICE", "PRICE", "NOTIONAL", "UNREALIZED", "REALIZED"]]
        for p in positions {
            rows.append([
                p["symbol"]?.stringValue ?? "?", number(p["position"]?.doubleValue ?? 0, digits: 6),
                number(p["average_price"]?.doubleValue ?? 0, digits: 4),
                number(p["last_price"]?.doubleValue ?? 0, digits: 4),
                number(p["notional"]?.doubleValue ?? 0, digits: 2),
                signed(p["unrealized_pnl"]?.doubleValue ?? 0), signed(p["realized_pnl"]?.doubleValue ?? 0),
            ])
        }
        return render(rows)
    }

    /// One row per engine, then each trade difference and adoption as a line under the table.
    static func reconciliation(_ rows: [JSON]) -> String {
        let table = render(
            [["SYMBOL", "ASSET", "BOOKS", "EXCHANGE", "DIFFERENCE", "TRADES", "RESULT"]]
                + rows.map { r in
                    [
                        r["symbol"]?.stringValue ?? "?", r["asset"]?.stringValue ?? "?",
                        formatted(r["books"]?.doubleValue ?? 0), r["exchange"]?.doubleValue.map(formatted) ?? "-",
                        r["difference"]?.doubleValue.map(formatted) ?? "-",
                        "\(r["trades_compared"]?.intValue ?? 0) compared, \(r["trade_differences"]?.arrayValue?.count ?? 0) differ",
                        (r["outcome"]?.stringValue ?? "?")
                            + (r["fresh"]?.boolValue == false ? " (not re-checked)" : ""),
                    ]
                })
        let notes = rows.flatMap { r in
            let symbol = r["symbol"]?.stringValue ?? "?"
            return ((r["trade_differences"]?.arrayValue ?? []) + (r["adopted"]?.arrayValue ?? [])).map {
                "\n\(symbol): \($0.stringValue ?? "?")"
            }
        }
        return table + notes.joined()
    }

    /// `scheduler.list`: one row per job (next fire time in its zone), then the trading hours.
    static func schedule(_ result: JSON) -> String {
        var rows = [["JOB", "SCHEDULE", "ACTION", "NEXT (LOCAL)", "LAST RUN", "RESULT"]]
        for job in result["jobs"]?.arrayValue ?? [] {
            let action = job["action"]
            let target =
                action?["module"]?.stringValue ?? action?["topic"]?.stringValue ?? action?["method"]?.stringValue
            rows.append([
                job["name"]?.stringValue ?? "?",
                "\(job["schedule"]?.stringValue ?? "?") \(job["timezone"]?.stringValue ?? "")",
                (action?["type"]?.stringValue ?? "?") + (target.map { " \($0)" } ?? ""),
                job["next"]?.arrayValue?.first?["local"]?.stringValue ?? "never",
                job["last_run"]?.stringValue ?? "-",
                (job["running"]?.boolValue == true ? "running" : job["last_result"]?.stringValue) ?? "-",
            ])
        }
        var out = rows.count == 1 ? "no scheduled jobs" : render(rows)
        if let t = result["trading_hours"], t != .null {
            let edge = t["next_edge"]
            out += "\n\ntrading hours: \(t["module"]?.stringValue ?? "?") \(t["window"]?.stringValue ?? "")"
            out += " — \(t["open"]?.boolValue == true ? "open" : "closed")"
            if let at = edge?["local"]?.stringValue {
                out += "; \(edge?["opens"]?.boolValue == true ? "opens" : "closes") at \(at)"
            }
            if let o = t["override"], o != .null {
                out +=
                    "\noperator override: \(o["module_wanted"]?.stringValue ?? "?") until \(o["until"]?.stringValue ?? "?")"
            }
        } else {
            out += "\n\ntrading hours: off (schedule.trading_hours: false)"
        }
        return out
    }

    static func orders(_ orders: [JSON]) -> String {
        var rows = [["SYMBOL", "SIDE", "STATUS", "QTY", "CLIENT ORDER ID", "ORDER ID"]]
        for o in orders {
            rows.append([
                o["symbol"]?.stringValue ?? "?", o["side"]?.stringValue ?? "?", o["status"]?.stringValue ?? "?",
                number(o["executed_qty"]?.doubleValue ?? 0, digits: 6), o["client_order_id"]?.stringValue ?? "-",
                o["order_id"]?.intValue.map(String.init) ?? "-",
            ])
        }
        return render(rows)
    }

    /// A number with at most `digits` decimals, trailing zeros dropped.
    static func number(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let units = Int64((abs(value) * scale).rounded())
        let whole = units / Int64(scale)
        let frac = units % Int64(scale)
        var fraction = String(frac)
        fraction = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return (value < 0 && units != 0 ? "-" : "") + String(whole) + (fraction.isEmpty ? "" : "." + fraction)
    }

    static func signed(_ value: Double) -> String { (value > 0.005 ? "+" : "") + number(value, digits: 2) }

    static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        // Appends, not `joined`: the generic `joined` resolves its associated types at run time,
        // which was a fifth of a `superbot-cli status` call's instructions.
        var out = ""
        for (r, row) in rows.enumerated() {
            var line = r == 0 ? "" : "\n"
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            out += line.trimmingTrailingSpaces()
        }
        return out
    }

    static func keyValues(_ json: JSON) -> String {
        guard let object = json.objectValue else { return json.serialized() }
        let width = object.keys.map(\.count).max() ?? 0
        return object.keys.sorted().map { key in
            let value = object[key]!
            let text = value.stringValue ?? (value.isNull ? "-" : value.serialized())
            return key + String(repeating: " ", count: width - key.count + 2) + text
        }.joined(separator: "\n")
    }

    /// `1-02:03:04`, `02:03:04` or `03:04`.
    static func duration(_ seconds: Int) -> String {
        let d = seconds / 86400
        let h = seconds / 3600 % 24
        let m = seconds / 60 % 60
        let s = seconds % 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if d > 0 { return "\(d)-\(two(h)):\(two(m)):\(two(s))" }
        if h > 0 { return "\(two(h)):\(two(m)):\(two(s))" }
        return "\(two(m)):\(two(s))"
    }

    static func bytes(_ value: Double) -> String {
        if value >= 1_073_741_824 { return formatted(value / 1_073_741_824) + "G" }
        if value >= 1_048_576 { return formatted(value / 1_048_576) + "M" }
        return formatted(value / 1024) + "K"
    }

    static func formatted(_ value: Double) -> String {
        let tenths = Int((abs(value) * 10).rounded())
        return (value < 0 && tenths != 0 ? "-" : "") + "\(tenths / 10).\(tenths % 10)"
    }

    /// Two decimals, for money and ratios (`-33.84`).
    static func fixed(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "--" : value > 0 ? "inf" : "-inf" }
        let cents = Int((abs(value) * 100).rounded())
        let frac = cents % 100
        return (value < 0 && cents != 0 ? "-" : "") + "\(cents / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
