import HTTP
import JSON
import MarketData
import TradingSettings

/// The `/api/v3` endpoints, one method each (registered in `apiRouter`).
extension SimulatedExchange {
    func ping(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        return json([:])
    }

    func time(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        return json(["serverTime": JSON(Int64(now * 1000))])
    }

    func exchangeInfoRoute(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        return json(exchangeInfo(now: now))
    }

    func tickerPrice(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        return try perSymbol(p, now: now) { m in
            ["symbol": .string(m.symbol), "price": .string(DecimalText.format(m.lastPrice))]
        }
    }

    func bookTicker(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        return try perSymbol(p, now: now) { m in
            let bid = m.level(side: .bid, 0)
            let ask = m.level(side: .ask, 0)
            return [
                "symbol": .string(m.symbol), "bidPrice": .string(DecimalText.format(bid.price)),
                "bidQty": .string(DecimalText.format(bid.qty)),
                "askPrice": .string(DecimalText.format(ask.price)), "askQty": .string(DecimalText.format(ask.qty)),
            ]
        }
    }

    func depth(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        let m = try market(p, now: now)
        let limit = try intParam(p, "limit", default: 100, range: 1...5000)
        let levels = min(limit, 1000)
        // Written straight to bytes: a thousand levels through a JSON tree cost more than the text.
        var w = JSONWriter(capacity: 64 + levels * 48)
        w.beginObject()
        w.key("lastUpdateId")
        w.integer(m.updateID)
        for (name, side) in [("bids", SimMarket.BookSide.bid), ("asks", .ask)] {
            w.key(name)
            w.beginArray()
            for i in 0..<levels {
                let level = m.level(side: side, i)
                w.beginArray()
                w.string(DecimalText.format(level.price))
                w.string(DecimalText.format(level.qty))
                w.endArray()
            }
            w.endArray()
        }
        w.endObject()
        return json(bytes: w.bytes)
    }

    func klines(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        let m = try market(p, now: now)
        guard let intervalText = p["interval"], !intervalText.isEmpty else { throw mandatory("interval") }
        guard let seconds = SimulatedExchange.intervals[intervalText] else {
            throw Rejection(-1120, "Invalid interval '\(intervalText)'.")
        }
        let limit = try intParam(p, "limit", default: 500, range: 1...1000)
        let start = try p["startTime"].map { t throws(Rejection) in try int64(t, "startTime") }
        let end = try p["endTime"].map { t throws(Rejection) in try int64(t, "endTime") }
        let bars = m.klines(intervalSeconds: seconds, limit: limit, startTime: start, endTime: end)
        var w = JSONWriter(capacity: 16 + bars.count * 160)
        w.beginArray()
        for b in bars {
            w.beginArray()
            w.integer(b.time)
            for value in [b.open, b.high, b.low, b.close, b.volume] { w.string(DecimalText.format(value)) }
            w.integer(b.time + seconds * 1000 - 1)
            w.string(DecimalText.format(b.volume * b.close))
            w.integer(0)
            for _ in 0..<3 { w.string("0") }
            w.endArray()
        }
        w.endArray()
        return json(bytes: w.bytes)
    }

    func newOrder(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
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
            guard (1...36).contains(id.count),
                id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
            else {
                throw Rejection(
                    -1100,
                    "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'."
                )
            }
        }
        let order = try placeOrder(
            symbol: m.symbol, side: side, type: type, quantity: quantity, price: price, timeInForce: tif,
            clientOrderId: p["newClientOrderId"], now: now)
        return json(orderJSON(order, full: true))
    }

    func queryOrder(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        let m = try market(p, now: now)
        let (id, client) = try orderRef(p)
        guard let order = find(symbol: m.symbol, orderId: id, clientOrderId: client) else {
            throw Rejection(-2013, "Order does not exist.")
        }
        return json(orderJSON(order, full: false))
    }

    func cancelOrder(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        let m = try market(p, now: now)
        let (id, client) = try orderRef(p)
        return json(orderJSON(try cancel(symbol: m.symbol, orderId: id, clientOrderId: client, now: now), full: false))
    }

    func openOrders(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        let symbol = try p["symbol"].map { _ throws(Rejection) in try market(p, now: now).symbol }
        let open = openOrderIDs.sorted().compactMap { orders[$0] }.filter { symbol == nil || $0.symbol == symbol }
        return json(.array(open.map { orderJSON($0, full: false) }))
    }

    func account(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        let assets = balances.keys.sorted()
        return json([
            "makerCommission": JSON(Int(makerFee * 10_000)), "takerCommission": JSON(Int(takerFee * 10_000)),
            "canTrade": true, "canWithdraw": false, "canDeposit": false, "accountType": "SPOT",
            "updateTime": JSON(Int64(now * 1000)), "permissions": ["SPOT"],
            "balances": .array(
                assets.map { a in
                    [
                        "asset": .string(a), "free": .string(DecimalText.format(balances[a]!.free)),
                        "locked": .string(DecimalText.format(balances[a]!.locked)),
                    ]
                }),
        ])
    }

    func myTrades(_ p: [String: String], now: Double) throws(Rejection) -> HTTPResponse {
        let m = try market(p, now: now)
        let limit = try intParam(p, "limit", default: 500, range: 1...1000)
        let orderId = try p["orderId"].map { t throws(Rejection) in try int64(t, "orderId") }
        let fromId = try p["fromId"].map { t throws(Rejection) in try int64(t, "fromId") }
        let list = (trades[m.symbol] ?? []).filter {
            (orderId == nil || $0.orderId == orderId) && (fromId == nil || $0.tradeId >= fromId!)
        }
        return json(
            .array(
                list.prefix(limit).map { f in
                    [
                        "symbol": .string(f.symbol), "id": JSON(f.tradeId), "orderId": JSON(f.orderId),
                        "orderListId": -1,
                        "price": .string(DecimalText.format(f.price)), "qty": .string(DecimalText.format(f.qty)),
                        "quoteQty": .string(DecimalText.format(f.price * f.qty)),
                        "commission": .string(DecimalText.format(f.commission)),
                        "commissionAsset": .string(f.commissionAsset), "time": JSON(f.time),
                        "isBuyer": .bool(f.isBuyer),
                        "isMaker": .bool(f.isMaker), "isBestMatch": true,
                    ]
                }))
    }

    static let intervals = TradingConfig.Strategy.intervals

    func exchangeInfo(now: Double) -> JSON {
        [
            "timezone": "UTC", "serverTime": JSON(Int64(now * 1000)),
            "rateLimits": [rateLimitJSON],
            "symbols": .array(
                symbolOrder.map { s in
                    let m = markets[s]!
                    return [
                        "symbol": .string(s), "status": "TRADING", "baseAsset": .string(m.baseAsset),
                        "quoteAsset": .string(m.quoteAsset),
                        "baseAssetPrecision": 8, "quotePrecision": 8, "orderTypes": ["LIMIT", "MARKET"],
                        "isSpotTradingAllowed": true,
                        "filters": [
                            [
                                "filterType": "PRICE_FILTER", "minPrice": .string(DecimalText.format(m.tickSize)),
                                "maxPrice": "1000000.00000000",
                                "tickSize": .string(DecimalText.format(m.tickSize)),
                            ],
                            [
                                "filterType": "LOT_SIZE", "minQty": .string(DecimalText.format(m.stepSize)),
                                "maxQty": "9000000.00000000",
                                "stepSize": .string(DecimalText.format(m.stepSize)),
                            ],
                            [
                                "filterType": "NOTIONAL", "minNotional": .string(DecimalText.format(m.minNotional)),
                                "applyMinToMarket": true,
                            ],
                        ],
                    ]
                }),
        ]
    }

    /// The weight window as Binance states it (minutes, or seconds for the short windows tests use).
    private var rateLimitJSON: JSON {
        let window = Int(limiter.window.rounded())
        let minutes = window % 60 == 0
        return [
            "rateLimitType": "REQUEST_WEIGHT", "interval": minutes ? "MINUTE" : "SECOND",
            "intervalNum": JSON(minutes ? window / 60 : max(1, window)),
            "limit": JSON(limiter.limit),
        ]
    }

    func orderJSON(_ o: SimOrder, full: Bool) -> JSON {
        var out: [String: JSON] = [
            "symbol": .string(o.symbol), "orderId": JSON(o.orderId), "orderListId": -1,
            "clientOrderId": .string(o.clientOrderId),
            "price": .string(DecimalText.format(o.price)), "origQty": .string(DecimalText.format(o.origQty)),
            "executedQty": .string(DecimalText.format(o.executedQty)),
            "cummulativeQuoteQty": .string(DecimalText.format(o.cumulativeQuote)),
            "status": .string(o.status.rawValue), "timeInForce": .string(o.timeInForce), "type": .string(o.type),
            "side": .string(o.side),
            "workingTime": JSON(o.time),
        ]
        if full {
            out["transactTime"] = JSON(o.time)
            out["fills"] = .array(
                o.fills.map { f in
                    [
                        "price": .string(DecimalText.format(f.price)), "qty": .string(DecimalText.format(f.qty)),
                        "commission": .string(DecimalText.format(f.commission)),
                        "commissionAsset": .string(f.commissionAsset), "tradeId": JSON(f.tradeId),
                    ]
                })
        } else {
            out["time"] = JSON(o.time)
            out["updateTime"] = JSON(o.updateTime)
            out["isWorking"] = .bool(o.isOpen)
        }
        return .object(out)
    }
}
