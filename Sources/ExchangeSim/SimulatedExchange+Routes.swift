import HTTP
import JSON
import MarketData

/// The Binance spot REST surface (`/api/v3/...`), plus `/health` and the simulator's own
/// `/sim/stats` and `/sim/faults` (tests and benchmarks change faults without a restart).
extension SimulatedExchange {
    public func handle(_ request: HTTPRequest, now: Double) -> Outcome {
        stats.requests += 1
        let path = request.path
        if !path.hasPrefix("/api/") { return .respond(handleLocal(request, path: path)) }
        let params = request.parameters
        let weight = SimulatedExchange.weight(request.method, path, params)
        var headers: [(String, String)] = []
        switch limiter.admit(weight: weight, now: now) {
        case .limited(let retryAfter, let used):
            stats.rateLimited += 1
            return .respond(error(429, -1003, "Too many requests; current limit of IP(127.0.0.1) is \(limiter.limit) request weight per \(Int(limiter.window)) s. Retry after \(retryAfter) s.",
                                  headers: [("Retry-After", String(retryAfter)), ("X-MBX-USED-WEIGHT-1M", String(used))]))
        case .allowed(let used):
            headers.append(("X-MBX-USED-WEIGHT-1M", String(used)))
        }
        // Injected faults, decided before the request runs (except a lost reply, decided after).
        if faults.dropRate > 0, faultRandom.unit() < faults.dropRate { stats.faultsInjected += 1; return .drop }
        if faults.errorRate > 0, faultRandom.unit() < faults.errorRate {
            stats.faultsInjected += 1
            return finish(error(faultRandom.unit() < 0.5 ? 500 : 503, -1001, "Internal error; unable to process your request. Please try again."))
        }
        if faults.garbageRate > 0, faultRandom.unit() < faults.garbageRate {
            stats.faultsInjected += 1
            return finish(HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array("{\"symbol\":\"BTC<html>garbage".utf8)))
        }
        var response: HTTPResponse
        do {
            response = try route(request.method, path, params, now: now)
        } catch let r {
            response = error(r.status, r.code, r.message)
        }
        for (name, value) in headers { response.headers.add(name, value) }
        if faults.loseReplyRate > 0, faultRandom.unit() < faults.loseReplyRate { stats.faultsInjected += 1; return .drop }
        return finish(response)
    }

    private func finish(_ response: HTTPResponse) -> Outcome {
        let latency = faults.latencyMs + (faults.latencyJitterMs > 0 ? faultRandom.unit() * faults.latencyJitterMs : 0)
        return latency > 0 ? .delayed(latency / 1000, response) : .respond(response)
    }

    private func handleLocal(_ request: HTTPRequest, path: String) -> HTTPResponse {
        switch (request.method, path) {
        case ("GET", "/health"):
            return json(["status": "ok", "symbols": JSON(symbolOrder.count), "requests": JSON(stats.requests)])
        case ("GET", "/sim/stats"):
            return json([
                "requests": JSON(stats.requests), "orders_placed": JSON(stats.ordersPlaced), "rate_limited": JSON(stats.rateLimited),
                "faults_injected": JSON(stats.faultsInjected), "weight_used": JSON(limiter.used), "open_orders": JSON(openOrderIDs.count),
            ])
        case ("POST", "/sim/faults"):
            let p = request.parameters
            func rate(_ key: String, _ current: Double) -> Double? {
                guard let text = p[key] else { return current }
                guard let v = Double(text), v.isFinite, v >= 0 else { return nil }
                return v
            }
            guard let latency = rate("latency_ms", faults.latencyMs), let jitter = rate("latency_jitter_ms", faults.latencyJitterMs),
                  let errorRate = rate("error_rate", faults.errorRate), let drop = rate("drop_rate", faults.dropRate),
                  let lose = rate("lose_reply_rate", faults.loseReplyRate), let garbage = rate("garbage_rate", faults.garbageRate),
                  [errorRate, drop, lose, garbage].allSatisfy({ $0 <= 1 }) else {
                return error(400, -1100, "fault settings must be non-negative numbers (rates at most 1)")
            }
            faults.latencyMs = latency
            faults.latencyJitterMs = jitter
            faults.errorRate = errorRate
            faults.dropRate = drop
            faults.loseReplyRate = lose
            faults.garbageRate = garbage
            return json(["latency_ms": JSON(latency), "error_rate": JSON(errorRate), "drop_rate": JSON(drop), "lose_reply_rate": JSON(lose), "garbage_rate": JSON(garbage)])
        default:
            return error(404, -1000, "Unknown endpoint \(request.method) \(path)")
        }
    }

    static func weight(_ method: String, _ path: String, _ params: [String: String]) -> Int {
        let one = params["symbol"] != nil
        switch path {
        case "/api/v3/exchangeInfo": return 20
        case "/api/v3/ticker/price", "/api/v3/ticker/bookTicker": return one ? 2 : 4
        case "/api/v3/depth":
            let limit = Int(params["limit"] ?? "100") ?? 100
            return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250
        case "/api/v3/klines": return 2
        case "/api/v3/order": return method == "GET" ? 4 : 1
        case "/api/v3/openOrders": return one ? 6 : 80
        case "/api/v3/account", "/api/v3/myTrades": return 20
        default: return 1
        }
    }

    private func route(_ method: String, _ path: String, _ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        switch (method, path) {
        case ("GET", "/api/v3/ping"): return json([:])
        case ("GET", "/api/v3/time"): return json(["serverTime": JSON(Double(Int64(now * 1000)))])
        case ("GET", "/api/v3/exchangeInfo"): return json(exchangeInfo(now: now))
        case ("GET", "/api/v3/ticker/price"):
            return try perSymbol(p, now: now) { m in ["symbol": .string(m.symbol), "price": .string(DecimalText.format(m.lastPrice))] }
        case ("GET", "/api/v3/ticker/bookTicker"):
            return try perSymbol(p, now: now) { m in
                let bid = m.level(side: .bid, 0), ask = m.level(side: .ask, 0)
                return ["symbol": .string(m.symbol), "bidPrice": .string(DecimalText.format(bid.price)), "bidQty": .string(DecimalText.format(bid.qty)),
                        "askPrice": .string(DecimalText.format(ask.price)), "askQty": .string(DecimalText.format(ask.qty))]
            }
        case ("GET", "/api/v3/depth"):
            let m = try market(p, now: now)
            let limit = try intParam(p, "limit", default: 100, range: 1...5000)
            let levels = min(limit, 1000)
            func side(_ s: SimMarket.BookSide) -> JSON {
                .array((0..<levels).map { i in
                    let l = m.level(side: s, i)
                    return [.string(DecimalText.format(l.price)), .string(DecimalText.format(l.qty))]
                })
            }
            return json(["lastUpdateId": JSON(Double(m.updateID)), "bids": side(.bid), "asks": side(.ask)])
        case ("GET", "/api/v3/klines"):
            let m = try market(p, now: now)
            guard let intervalText = p["interval"], !intervalText.isEmpty else { throw mandatory("interval") }
            guard let seconds = SimulatedExchange.intervals[intervalText] else { throw Rejection(-1120, "Invalid interval '\(intervalText)'.") }
            let limit = try intParam(p, "limit", default: 500, range: 1...1000)
            let start = try p["startTime"].map { t throws(Rejection) in try int64(t, "startTime") }
            let end = try p["endTime"].map { t throws(Rejection) in try int64(t, "endTime") }
            let bars = m.klines(intervalSeconds: seconds, limit: limit, startTime: start, endTime: end)
            return json(.array(bars.map { b in
                [JSON(Double(b.time)), .string(DecimalText.format(b.open)), .string(DecimalText.format(b.high)), .string(DecimalText.format(b.low)),
                 .string(DecimalText.format(b.close)), .string(DecimalText.format(b.volume)), JSON(Double(b.time + seconds * 1000 - 1)),
                 .string(DecimalText.format(b.volume * b.close)), 0, "0", "0", "0"]
            }))
        case ("POST", "/api/v3/order"):
            let m = try market(p, now: now)
            let side = try choice(p, "side", ["BUY", "SELL"], code: -1117, "Invalid side.")
            let type = try choice(p, "type", ["MARKET", "LIMIT"], code: -1116, "Invalid orderType.")
            let quantity = try decimal(p, "quantity")
            var price: Double?
            var tif = "GTC"
            if type == "LIMIT" {
                price = try decimal(p, "price")
                tif = try choice(p, "timeInForce", ["GTC", "IOC", "FOK"], code: -1115, "Invalid timeInForce.")
            }
            if let id = p["newClientOrderId"] {
                guard (1...36).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    throw Rejection(-1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")
                }
            }
            let order = try placeOrder(symbol: m.symbol, side: side, type: type, quantity: quantity, price: price, timeInForce: tif,
                                       clientOrderId: p["newClientOrderId"], now: now)
            return json(orderJSON(order, full: true))
        case ("GET", "/api/v3/order"):
            let m = try market(p, now: now)
            let (id, client) = try orderRef(p)
            guard let order = find(symbol: m.symbol, orderId: id, clientOrderId: client) else { throw Rejection(-2013, "Order does not exist.") }
            return json(orderJSON(order, full: false))
        case ("DELETE", "/api/v3/order"):
            let m = try market(p, now: now)
            let (id, client) = try orderRef(p)
            return json(orderJSON(try cancel(symbol: m.symbol, orderId: id, clientOrderId: client, now: now), full: false))
        case ("GET", "/api/v3/openOrders"):
            let symbol = try p["symbol"].map { _ throws(Rejection) in try market(p, now: now).symbol }
            let open = openOrderIDs.sorted().compactMap { orders[$0] }.filter { symbol == nil || $0.symbol == symbol }
            return json(.array(open.map { orderJSON($0, full: false) }))
        case ("GET", "/api/v3/account"):
            let assets = balances.keys.sorted()
            return json([
                "makerCommission": JSON(Int(makerFee * 10_000)), "takerCommission": JSON(Int(takerFee * 10_000)),
                "canTrade": true, "canWithdraw": false, "canDeposit": false, "accountType": "SPOT",
                "updateTime": JSON(Double(Int64(now * 1000))), "permissions": ["SPOT"],
                "balances": .array(assets.map { a in
                    ["asset": .string(a), "free": .string(DecimalText.format(balances[a]!.free)), "locked": .string(DecimalText.format(balances[a]!.locked))]
                }),
            ])
        case ("GET", "/api/v3/myTrades"):
            let m = try market(p, now: now)
            let limit = try intParam(p, "limit", default: 500, range: 1...1000)
            let orderId = try p["orderId"].map { t throws(Rejection) in try int64(t, "orderId") }
            let fromId = try p["fromId"].map { t throws(Rejection) in try int64(t, "fromId") }
            let list = (trades[m.symbol] ?? []).filter { (orderId == nil || $0.orderId == orderId) && (fromId == nil || $0.tradeId >= fromId!) }
            return json(.array(list.prefix(limit).map { f in
                ["symbol": .string(f.symbol), "id": JSON(Double(f.tradeId)), "orderId": JSON(Double(f.orderId)), "orderListId": -1,
                 "price": .string(DecimalText.format(f.price)), "qty": .string(DecimalText.format(f.qty)),
                 "quoteQty": .string(DecimalText.format(f.price * f.qty)), "commission": .string(DecimalText.format(f.commission)),
                 "commissionAsset": .string(f.commissionAsset), "time": JSON(Double(f.time)), "isBuyer": .bool(f.isBuyer),
                 "isMaker": .bool(f.isMaker), "isBestMatch": true]
            }))
        default:
            let known = ["/api/v3/ping", "/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/ticker/price", "/api/v3/ticker/bookTicker",
                         "/api/v3/depth", "/api/v3/klines", "/api/v3/order", "/api/v3/openOrders", "/api/v3/account", "/api/v3/myTrades"]
            if known.contains(path) { throw Rejection(-1000, "Method \(method) is not allowed on \(path).", status: 405) }
            throw Rejection(-1000, "Unknown endpoint \(path).", status: 404)
        }
    }

    static let intervals: [String: Int64] = [
        "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14_400, "6h": 21_600,
        "8h": 28_800, "12h": 43_200, "1d": 86_400,
    ]

    private func exchangeInfo(now: Double) -> JSON {
        [
            "timezone": "UTC", "serverTime": JSON(Double(Int64(now * 1000))),
            "rateLimits": [rateLimitJSON],
            "symbols": .array(symbolOrder.map { s in
                let m = markets[s]!
                return [
                    "symbol": .string(s), "status": "TRADING", "baseAsset": .string(m.baseAsset), "quoteAsset": .string(m.quoteAsset),
                    "baseAssetPrecision": 8, "quotePrecision": 8, "orderTypes": ["LIMIT", "MARKET"], "isSpotTradingAllowed": true,
                    "filters": [
                        ["filterType": "PRICE_FILTER", "minPrice": .string(DecimalText.format(m.tickSize)), "maxPrice": "1000000.00000000",
                         "tickSize": .string(DecimalText.format(m.tickSize))],
                        ["filterType": "LOT_SIZE", "minQty": .string(DecimalText.format(m.stepSize)), "maxQty": "9000000.00000000",
                         "stepSize": .string(DecimalText.format(m.stepSize))],
                        ["filterType": "NOTIONAL", "minNotional": .string(DecimalText.format(m.minNotional)), "applyMinToMarket": true],
                    ],
                ]
            }),
        ]
    }

    /// The weight window as Binance states it (minutes, or seconds for the short windows tests use).
    private var rateLimitJSON: JSON {
        let window = Int(limiter.window.rounded())
        let minutes = window % 60 == 0
        return ["rateLimitType": "REQUEST_WEIGHT", "interval": minutes ? "MINUTE" : "SECOND", "intervalNum": JSON(minutes ? window / 60 : max(1, window)),
                "limit": JSON(limiter.limit)]
    }

    func orderJSON(_ o: SimOrder, full: Bool) -> JSON {
        var out: [String: JSON] = [
            "symbol": .string(o.symbol), "orderId": JSON(Double(o.orderId)), "orderListId": -1, "clientOrderId": .string(o.clientOrderId),
            "price": .string(DecimalText.format(o.price)), "origQty": .string(DecimalText.format(o.origQty)),
            "executedQty": .string(DecimalText.format(o.executedQty)), "cummulativeQuoteQty": .string(DecimalText.format(o.cumulativeQuote)),
            "status": .string(o.status.rawValue), "timeInForce": .string(o.timeInForce), "type": .string(o.type), "side": .string(o.side),
            "workingTime": JSON(Double(o.time)),
        ]
        if full {
            out["transactTime"] = JSON(Double(o.time))
            out["fills"] = .array(o.fills.map { f in
                ["price": .string(DecimalText.format(f.price)), "qty": .string(DecimalText.format(f.qty)),
                 "commission": .string(DecimalText.format(f.commission)), "commissionAsset": .string(f.commissionAsset), "tradeId": JSON(Double(f.tradeId))]
            })
        } else {
            out["time"] = JSON(Double(o.time))
            out["updateTime"] = JSON(Double(o.updateTime))
            out["isWorking"] = .bool(o.isOpen)
        }
        return .object(out)
    }

    // MARK: Parameters

    private func market(_ p: [String: String], now: Double) throws(Rejection) -> SimMarket {
        guard let symbol = p["symbol"], !symbol.isEmpty else { throw mandatory("symbol") }
        guard markets[symbol] != nil else { throw Rejection(-1121, "Invalid symbol.") }
        advance(symbol, now: now)
        return markets[symbol]!
    }

    private func perSymbol(_ p: [String: String], now: Double, _ body: (SimMarket) -> JSON) throws(Rejection) -> HTTPResponse {
        if p["symbol"] != nil { return json(body(try market(p, now: now))) }
        var names = symbolOrder
        if let list = p["symbols"] {
            guard case .array(let items)? = try? JSON.parse(list), items.allSatisfy({ $0.stringValue != nil }) else {
                throw Rejection(-1100, "Illegal characters found in parameter 'symbols'; expected a JSON array like [\"BTCUSDT\",\"ETHUSDT\"].")
            }
            names = items.compactMap(\.stringValue)
            for name in names where markets[name] == nil { throw Rejection(-1121, "Invalid symbol.") }
        }
        for name in names { advance(name, now: now) }
        return json(.array(names.map { body(markets[$0]!) }))
    }

    private func mandatory(_ name: String) -> Rejection {
        Rejection(-1102, "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
    }

    /// Binance's decimal rule: digits, optionally a point and more digits; no sign, exponent or NaN.
    private func decimal(_ p: [String: String], _ name: String) throws(Rejection) -> Double {
        guard let text = p[name], !text.isEmpty else { throw mandatory(name) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 20 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let value = Double(text), value.isFinite else {
            throw Rejection(-1100, "Illegal characters found in parameter '\(name)'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
        }
        guard value > 0 else { throw Rejection(-1013, "Invalid \(name): must be greater than zero.") }
        return value
    }

    private func intParam(_ p: [String: String], _ name: String, default fallback: Int, range: ClosedRange<Int>) throws(Rejection) -> Int {
        guard let text = p[name] else { return fallback }
        guard let v = Int(text), range.contains(v) else {
            throw Rejection(-1100, "Illegal characters found in parameter '\(name)'; legal range is \(range.lowerBound)...\(range.upperBound).")
        }
        return v
    }

    private func int64(_ text: String, _ name: String) throws(Rejection) -> Int64 {
        guard let v = Int64(text), v >= 0 else { throw Rejection(-1100, "Illegal characters found in parameter '\(name)'.") }
        return v
    }

    private func choice(_ p: [String: String], _ name: String, _ allowed: [String], code: Int, _ message: String) throws(Rejection) -> String {
        guard let v = p[name], !v.isEmpty else { throw mandatory(name) }
        guard allowed.contains(v) else { throw Rejection(code, message) }
        return v
    }

    private func orderRef(_ p: [String: String]) throws(Rejection) -> (Int64?, String?) {
        let id = try p["orderId"].map { t throws(Rejection) in try int64(t, "orderId") }
        let client = p["origClientOrderId"]
        guard id != nil || client != nil else { throw Rejection(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!") }
        return (id, client)
    }

    func json(_ value: JSON, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "application/json;charset=UTF-8")]), body: value.serializedBytes())
    }

    func error(_ status: Int, _ code: Int, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
        var response = json(["code": JSON(code), "msg": .string(message)], status: status)
        for (n, v) in headers { response.headers.add(n, v) }
        return response
    }
}
