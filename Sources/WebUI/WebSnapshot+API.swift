import JSON
import SystemKit

/// The JSON answers of the HTTP API, computed from a snapshot (no I/O): a status code and a body.
extension WebSnapshot {
    public typealias Answer = (status: Int, body: JSON)

    static func detail(_ status: Int, _ text: String) -> Answer { (status, ["detail": .string(text)]) }

    /// 503 when the engines cannot be known right now.
    var enginesUnavailable: Answer? {
        if !daemonUp { return Self.detail(503, "the SuperBot daemon is not reachable: \(daemonError ?? "starting")") }
        guard engines != nil else {
            return Self.detail(503, "the trading module is not answering: \(tradingError ?? "not started")")
        }
        return nil
    }

    public func enginesStatus() -> Answer {
        if let down = enginesUnavailable { return down }
        let list = engines ?? []
        func count(_ status: String) -> JSON { JSON(list.filter { $0["status"]?.stringValue == status }.count) }
        return (
            200,
            [
                "total": JSON(list.count), "running": count("running"), "crashed": count("crashed"),
                "stopped": count("stopped"), "engines": .array(list),
            ]
        )
    }

    public func engine(_ symbol: String) -> Answer {
        if let down = enginesUnavailable { return down }
        guard let engine = engines?.first(where: { $0["symbol"]?.stringValue == symbol }) else {
            return Self.detail(404, "Engine \(symbol) not found")
        }
        return (200, engine)
    }

    public func healthAnswer() -> Answer {
        let list = engines ?? []
        let moduleStates = (modules ?? []).reduce(into: [String: JSON]()) { out, m in
            if let name = m["name"]?.stringValue { out[name] = m["state"] ?? .null }
        }
        let unhealthy = list.filter { $0["healthy"]?.boolValue == false }.compactMap { $0["symbol"] }
        let status: String
        if !daemonUp {
            status = "down"
        } else if health?["status"]?.stringValue != "ok" || engines == nil || !unhealthy.isEmpty {
            status = "degraded"
        } else {
            status = "ok"
        }
        return (
            daemonUp ? 200 : 503,
            [
                "status": .string(status),
                "daemon": daemonUp
                    ? [
                        "status": health?["status"] ?? .null, "pid": daemon?["pid"] ?? .null,
                        "version": daemon?["version"] ?? .null, "uptime_seconds": health?["uptime_seconds"] ?? .null,
                        "failing": health?["failing"] ?? [],
                    ] : ["status": "unreachable", "error": .string(daemonError ?? "starting")],
                "modules": .object(moduleStates),
                "engines": engines == nil
                    ? ["available": false, "error": .string(tradingError ?? "not started")]
                    : [
                        "available": true, "total": JSON(list.count),
                        "running": JSON(list.filter { $0["status"]?.stringValue == "running" }.count),
                        "unhealthy": .array(unhealthy),
                    ],
                "updated": updated > 0 ? .string(Clock.iso8601(updated)) : .null,
            ]
        )
    }

    public func moduleList() -> Answer {
        guard daemonUp, let modules else { return Self.detail(503, "the SuperBot daemon is not reachable") }
        return (200, ["modules": .array(modules)])
    }

    /// One module's list entry with its live /proc figures.
    public func module(_ name: String) -> Answer {
        guard daemonUp, let modules else { return Self.detail(503, "the SuperBot daemon is not reachable") }
        guard var entry = modules.first(where: { $0["name"]?.stringValue == name })?.objectValue else {
            return Self.detail(404, "Module \(name) not found")
        }
        for (key, value) in resources?["modules"]?[name]?.objectValue ?? [:] where entry[key] == nil {
            entry[key] = value
        }
        return (200, .object(entry))
    }

    public func positionList() -> Answer {
        if let down = enginesUnavailable { return down }
        return (200, ["positions": .array(positions ?? [])])
    }

    public func orderList(symbol: String?) -> Answer {
        if let down = enginesUnavailable { return down }
        func keep(_ list: JSON?) -> JSON {
            .array((list?.arrayValue ?? []).filter { symbol == nil || $0["symbol"]?.stringValue == symbol })
        }
        return (200, ["recent": keep(orders?["recent"]), "pending": keep(orders?["pending"])])
    }

    public func balanceAnswer() -> Answer {
        if let down = enginesUnavailable { return down }
        return (200, balance ?? [:])
    }

    /// freqtrade's `/trades`: newest first, `limit` (default 100, at most 1000) from `offset`.
    public func tradePage(symbol: String?, limit: Int, offset: Int) -> Answer {
        if let down = enginesUnavailable { return down }
        let all = (trades ?? []).filter { symbol == nil || $0["symbol"]?.stringValue == symbol }
        let page = Array(all.dropFirst(offset).prefix(limit))
        return (
            200,
            [
                "trades": .array(page), "trades_count": JSON(page.count), "offset": JSON(offset),
                "total_trades": JSON(all.count),
            ]
        )
    }

    /// freqtrade's `/profit`: closed trades' totals, plus per symbol and per UTC day.
    public func profit() -> Answer {
        if let down = enginesUnavailable { return down }
        let closed = trades ?? []
        func value(_ t: JSON, _ key: String) -> Double { t[key]?.doubleValue ?? 0 }
        let profits = closed.map { value($0, "profit_abs") }
        let wins = profits.filter { $0 > 0 }
        let losses = profits.filter { $0 < 0 }
        let grossLoss = -losses.reduce(0, +)
        var perSymbol: [String: (profit: Double, count: Int, wins: Int)] = [:]
        var perDay: [String: (profit: Double, count: Int)] = [:]
        for t in closed {
            let symbol = t["symbol"]?.stringValue ?? "?"
            let p = value(t, "profit_abs")
            perSymbol[symbol, default: (0, 0, 0)].profit += p
            perSymbol[symbol, default: (0, 0, 0)].count += 1
            if p > 0 { perSymbol[symbol, default: (0, 0, 0)].wins += 1 }
            let day = String((t["close_date"]?.stringValue ?? "").prefix(10))
            perDay[day, default: (0, 0)].profit += p
            perDay[day, default: (0, 0)].count += 1
        }
        func money(_ x: Double) -> JSON { JSON((x * 1e8).rounded() / 1e8) }
        let best = perSymbol.max { $0.value.profit < $1.value.profit }
        let all = (balance?["realized_pnl"]?.doubleValue ?? 0) + (balance?["unrealized_pnl"]?.doubleValue ?? 0)
        return (
            200,
            [
                "profit_closed_coin": money(profits.reduce(0, +)),
                "profit_all_coin": money(all - (balance?["fees"]?.doubleValue ?? 0)),
                "realized_pnl": balance?["realized_pnl"] ?? .null,
                "unrealized_pnl": balance?["unrealized_pnl"] ?? .null,
                "fees": balance?["fees"] ?? .null,
                "trade_count": balance?["trade_count"] ?? .null, "closed_trade_count": JSON(closed.count),
                "winning_trades": JSON(wins.count), "losing_trades": JSON(losses.count),
                "winrate": closed.isEmpty ? 0 : JSON(Double(wins.count) / Double(closed.count)),
                "profit_factor": grossLoss > 0 ? JSON(wins.reduce(0, +) / grossLoss) : .null,
                "first_trade_date": closed.last?["open_date"] ?? .null,
                "latest_trade_date": closed.first?["close_date"] ?? .null,
                "best_pair": best.map { .string($0.key) } ?? .null,
                "best_pair_profit_abs": best.map { money($0.value.profit) } ?? .null,
                "per_symbol": .object(
                    perSymbol.mapValues {
                        [
                            "profit_abs": money($0.profit), "trade_count": JSON($0.count),
                            "winning_trades": JSON($0.wins),
                        ]
                    }),
                "per_day": .array(
                    perDay.keys.sorted(by: >).map { day in
                        [
                            "date": .string(day), "abs_profit": money(perDay[day]!.profit),
                            "trade_count": JSON(perDay[day]!.count),
                        ]
                    }),
            ]
        )
    }

    public func chart(_ symbol: String?) -> Answer {
        if let symbol {
            guard let chart = charts[symbol] else { return Self.detail(404, "no chart data for \(symbol) yet") }
            return (200, chart.json)
        }
        return (200, .object(charts.mapValues(\.json)))
    }
}
