import ExchangeModel
import HTTP
import JSON
import MarketData
import Synchronization
import SystemKit

/// The exchange connector: Binance spot REST over a keep-alive pool, within the exchange's
/// request weights, retrying transient failures with exponential backoff and jitter, and caching
/// market data with a TTL per kind. An order is retried only because it carries a client order
/// id: a retry the exchange refuses as a duplicate is answered by looking the order up, so a
/// lost reply never turns into a second order.
public final class ExchangeClient: ExchangeAPI {
    public struct Settings: Sendable {
        public var baseURL: String
        public var apiKey: String?
        public var timeout = 5.0
        public var minConnections = 2
        public var maxConnections = 10
        public var connectTimeout = 5.0
        public var idleTimeout = 300.0
        public var maxAttempts = 4
        public var baseDelay = 0.1
        public var maxDelay = 5.0
        public var tickerTTL = 5.0
        public var orderBookTTL = 1.0
        public var klinesTTL = 60.0
        /// The account (balances): short, since reconciliation compares it with fresh fills.
        public var accountTTL = 1.0

        public init(baseURL: String) { self.baseURL = baseURL }
    }

    public struct Counters: Sendable, Equatable {
        public var requests = 0
        public var retries = 0
        public var failures = 0
        public var duplicateOrdersResolved = 0
        /// Market data answered by the shared cache instead of the exchange.
        public var sharedHits = 0
    }

    public let settings: Settings
    public let pool: HTTPConnectionPool
    public let budget = WeightBudget()
    public let cache = ResponseCache()
    /// Market data (tickers, books, klines, exchange info) also goes through this, when set.
    public let sharedCache: (any SharedCache)?
    let counters = Mutex(Counters())
    private let rules = Mutex<[String: SymbolRules]>([:])

    public init(_ settings: Settings, sharedCache: (any SharedCache)? = nil) throws {
        self.settings = settings
        self.sharedCache = sharedCache
        guard let (host, port) = ExchangeClient.hostAndPort(settings.baseURL) else {
            throw ExchangeError.transport(
                "base_url '\(settings.baseURL)' must look like http://127.0.0.1:8081", requestSent: false)
        }
        var pool = HTTPConnectionPool.Settings(host: host, port: port)
        pool.minConnections = settings.minConnections
        pool.maxConnections = settings.maxConnections
        pool.connectTimeout = settings.connectTimeout
        pool.requestTimeout = settings.timeout
        pool.idleTimeout = settings.idleTimeout
        self.pool = try HTTPConnectionPool(pool)
    }

    public func shutdown() { pool.shutdown() }

    static func hostAndPort(_ url: String) -> (String, UInt16)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7).prefix { $0 != "/" }
        let parts = rest.split(separator: ":", maxSplits: 1)
        guard let hostPart = parts.first, !hostPart.isEmpty else { return nil }
        let host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
        guard let port = parts.count == 2 ? UInt16(parts[1]) : 80 else { return nil }
        return (host, port)
    }

    public var counterValues: Counters { counters.withLock { $0 } }

    // MARK: Market data

    public func ping() async throws { _ = try await get("/api/v3/ping", [], weight: 1) }

    public func serverTime() async throws -> Int64 {
        let json = try await get("/api/v3/time", [], weight: 1)
        guard let t = json["serverTime"]?.doubleValue, t.isFinite, t > 0 else {
            throw ExchangeError.malformed("time: no serverTime")
        }
        return Int64(t)
    }

    public func tickerPrice(_ symbol: String) async throws -> Double {
        let json = try await cached("ticker:\(symbol)", kind: "ticker", ttl: settings.tickerTTL) {
            try await self.get("/api/v3/ticker/price", [("symbol", symbol)], weight: 2)
        }
        return try ExchangeClient.decimal(json, "price", context: "ticker/price \(symbol)")
    }

    public func bookTicker(_ symbol: String) async throws -> BookTicker {
        let json = try await cached("book:\(symbol)", kind: "ticker", ttl: settings.tickerTTL) {
            try await self.get("/api/v3/ticker/bookTicker", [("symbol", symbol)], weight: 2)
        }
        let c = "bookTicker \(symbol)"
        return BookTicker(
            bidPrice: try ExchangeClient.decimal(json, "bidPrice", context: c),
            bidQty: try ExchangeClient.decimal(json, "bidQty", context: c),
            askPrice: try ExchangeClient.decimal(json, "askPrice", context: c),
            askQty: try ExchangeClient.decimal(json, "askQty", context: c))
    }

    public func depth(_ symbol: String, limit: Int = 100) async throws -> OrderBook {
        let weight = limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250
        let json = try await cached("depth:\(symbol):\(limit)", kind: "order_book", ttl: settings.orderBookTTL) {
            try await self.get("/api/v3/depth", [("symbol", symbol), ("limit", String(limit))], weight: weight)
        }
        func levels(_ key: String) throws -> [(price: Double, qty: Double)] {
            guard let rows = json[key]?.arrayValue else {
                throw ExchangeError.malformed("depth \(symbol): no '\(key)'")
            }
            return try rows.map { row in
                guard let pair = row.arrayValue, pair.count >= 2, let p = pair[0].stringValue.flatMap(Double.init),
                    let q = pair[1].stringValue.flatMap(Double.init),
                    p.isFinite, q.isFinite, p > 0, q >= 0
                else { throw ExchangeError.malformed("depth \(symbol): bad level \(row.serialized().prefix(60))") }
                return (p, q)
            }
        }
        return OrderBook(
            lastUpdateId: Int64(json["lastUpdateId"]?.doubleValue ?? 0), bids: try levels("bids"),
            asks: try levels("asks"))
    }

    public func klines(_ symbol: String, interval: String, limit: Int) async throws -> [Bar] {
        let json = try await cached("klines:\(symbol):\(interval):\(limit)", kind: "klines", ttl: settings.klinesTTL) {
            try await self.get(
                "/api/v3/klines", [("symbol", symbol), ("interval", interval), ("limit", String(limit))], weight: 2)
        }
        guard let rows = json.arrayValue else { throw ExchangeError.malformed("klines \(symbol): not an array") }
        return try rows.map { row in
            guard let f = row.arrayValue, f.count >= 6, let t = f[0].doubleValue else {
                throw ExchangeError.malformed("klines \(symbol): bad row")
            }
            func v(_ i: Int) throws -> Double {
                guard let x = f[i].stringValue.flatMap(Double.init), x.isFinite, x >= 0 else {
                    throw ExchangeError.malformed("klines \(symbol): bad number in column \(i)")
                }
                return x
            }
            return Bar(time: Int64(t), open: try v(1), high: try v(2), low: try v(3), close: try v(4), volume: try v(5))
        }
    }

    public func exchangeInfo() async throws -> JSON {
        let json = try await cached("exchangeInfo", kind: "exchange_info", ttl: 3600) {
            try await self.get("/api/v3/exchangeInfo", [], weight: 20)
        }
        // Learn the weight limit, so the budget matches the exchange we talk to.
        if let limits = json["rateLimits"]?.arrayValue,
            let weight = limits.first(where: { $0["rateLimitType"]?.stringValue == "REQUEST_WEIGHT" }),
            let limit = weight["limit"]?.intValue, let n = weight["intervalNum"]?.intValue
        {
            let unit: Double =
                switch weight["interval"]?.stringValue {
                case "SECOND": 1
                case "HOUR": 3600
                case "DAY": 86_400
                default: 60
                }
            budget.configure(limit: limit, window: unit * Double(max(1, n)))
        }
        return json
    }

    public func symbolRules(_ symbol: String) async throws -> SymbolRules {
        if let known = rules.withLock({ $0[symbol] }) { return known }
        let info = try await exchangeInfo()
        guard let entry = info["symbols"]?.arrayValue?.first(where: { $0["symbol"]?.stringValue == symbol }) else {
            throw ExchangeError.rejected(
                status: 400, code: -1121, message: "Invalid symbol: the exchange does not list \(symbol).")
        }
        let filters = entry["filters"]?.arrayValue ?? []
        func filter(_ type: String, _ key: String, default fallback: Double) -> Double {
            filters.first { $0["filterType"]?.stringValue == type }?[key]?.stringValue.flatMap(Double.init) ?? fallback
        }
        let r = SymbolRules(
            symbol: symbol, baseAsset: entry["baseAsset"]?.stringValue ?? "",
            quoteAsset: entry["quoteAsset"]?.stringValue ?? "",
            tickSize: filter("PRICE_FILTER", "tickSize", default: 0.01),
            stepSize: filter("LOT_SIZE", "stepSize", default: 0.00001),
            minQty: filter("LOT_SIZE", "minQty", default: 0),
            minNotional: filter("NOTIONAL", "minNotional", default: filter("MIN_NOTIONAL", "minNotional", default: 0)))
        guard r.tickSize > 0, r.stepSize > 0 else {
            throw ExchangeError.malformed("exchangeInfo \(symbol): tick or step size is not positive")
        }
        rules.withLock { $0[symbol] = r }
        return r
    }

    // MARK: Trading

    public func placeOrder(_ order: NewOrder) async throws -> OrderResult {
        guard order.quantity.isFinite, order.quantity > 0 else {
            throw ExchangeError.rejected(
                status: 400, code: -1013, message: "quantity must be a positive finite number, got \(order.quantity)")
        }
        if let price = order.price, !(price.isFinite && price > 0) {
            throw ExchangeError.rejected(
                status: 400, code: -1013, message: "price must be a positive finite number, got \(price)")
        }
        var params: [(String, String)] = [
            ("symbol", order.symbol), ("side", order.side.rawValue), ("type", order.type),
            ("quantity", DecimalText.format(order.quantity, places: 8)), ("newClientOrderId", order.clientOrderId),
            ("newOrderRespType", "FULL"),
        ]
        if let price = order.price {
            params.append(("price", DecimalText.format(price, places: 8)))
            params.append(("timeInForce", "GTC"))
        }
        params.append(("timestamp", String(Int64(Clock.wall() * 1000))))
        var attempt = 0
        // Once an attempt may have executed, no later error can mean "rejected": the outcome is unknown.
        var mayHaveExecuted = false
        while true {
            attempt += 1
            do {
                let json = try await send("POST", "/api/v3/order", params, weight: 1)
                return try ExchangeClient.orderResult(json, side: order.side)
            } catch let error as ExchangeError {
                if attempt > 1, case .rejected(_, -2010, let message) = error, message.hasPrefix("Duplicate order") {
                    // An earlier attempt went through; its reply was lost. Report that order.
                    counters.withLock { $0.duplicateOrdersResolved += 1 }
                    return try await resolveDuplicate(order)
                }
                mayHaveExecuted = mayHaveExecuted || error.mayHaveExecuted
                do {
                    try await backoffOrThrow(error, attempt: attempt)
                } catch let final as ExchangeError where mayHaveExecuted {
                    throw ExchangeError.unknownOutcome("\(order.clientOrderId): \(final)")
                }
            }
        }
    }

    /// The order an earlier attempt placed. The exchange said it exists, so any failure here
    /// leaves its outcome unknown (never rejected).
    private func resolveDuplicate(_ order: NewOrder) async throws -> OrderResult {
        do {
            guard let existing = try await queryOrder(symbol: order.symbol, clientOrderId: order.clientOrderId) else {
                throw ExchangeError.malformed(
                    "the exchange refused a duplicate of \(order.clientOrderId) but does not know it")
            }
            var result = existing
            result.fills = try await orderTrades(symbol: order.symbol, orderId: existing.orderId)
            return result
        } catch let error as ExchangeError {
            throw ExchangeError.unknownOutcome("\(order.clientOrderId) exists but could not be looked up: \(error)")
        }
    }

    public func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult? {
        do {
            let json = try await get(
                "/api/v3/order",
                [
                    ("symbol", symbol), ("origClientOrderId", clientOrderId),
                    ("timestamp", String(Int64(Clock.wall() * 1000))),
                ], weight: 4)
            let side = OrderSide(rawValue: json["side"]?.stringValue ?? "") ?? .buy
            return try ExchangeClient.orderResult(json, side: side)
        } catch ExchangeError.rejected(_, -2013, _) {
            return nil
        }
    }

    public func cancelOrder(symbol: String, clientOrderId: String) async throws -> OrderResult {
        let json = try await request(
            "DELETE", "/api/v3/order",
            [
                ("symbol", symbol), ("origClientOrderId", clientOrderId),
                ("timestamp", String(Int64(Clock.wall() * 1000))),
            ], weight: 1)
        return try ExchangeClient.orderResult(json, side: OrderSide(rawValue: json["side"]?.stringValue ?? "") ?? .buy)
    }

    public func openOrders(symbol: String?) async throws -> [OrderResult] {
        var params: [(String, String)] = [("timestamp", String(Int64(Clock.wall() * 1000)))]
        if let symbol { params.insert(("symbol", symbol), at: 0) }
        let json = try await get("/api/v3/openOrders", params, weight: symbol == nil ? 80 : 6)
        guard let rows = json.arrayValue else { throw ExchangeError.malformed("openOrders: not an array") }
        return try rows.map {
            try ExchangeClient.orderResult($0, side: OrderSide(rawValue: $0["side"]?.stringValue ?? "") ?? .buy)
        }
    }

    public func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill] {
        try await myTrades(symbol, [("orderId", String(orderId))]).map(\.fill)
    }

    public func accountTrades(_ symbol: String, fromId: Int64, limit: Int) async throws -> [AccountTrade] {
        try await myTrades(symbol, [("fromId", String(fromId)), ("limit", String(limit))])
    }

    private func myTrades(_ symbol: String, _ params: [(String, String)]) async throws -> [AccountTrade] {
        let json = try await get(
            "/api/v3/myTrades",
            [("symbol", symbol)] + params + [("timestamp", String(Int64(Clock.wall() * 1000)))], weight: 20)
        guard let rows = json.arrayValue else { throw ExchangeError.malformed("myTrades: not an array") }
        return try rows.map { row in
            let c = "myTrades \(symbol)"
            guard let id = row["id"]?.int64Value, let orderId = row["orderId"]?.int64Value,
                let isBuyer = row["isBuyer"]?.boolValue
            else { throw ExchangeError.malformed("\(c): trade without id, orderId or isBuyer") }
            let fill = Fill(
                tradeId: id, price: try ExchangeClient.decimal(row, "price", context: c),
                qty: try ExchangeClient.decimal(row, "qty", context: c),
                commission: try ExchangeClient.decimal(row, "commission", context: c, allowZero: true),
                commissionAsset: row["commissionAsset"]?.stringValue ?? "")
            return AccountTrade(orderId: orderId, side: isBuyer ? .buy : .sell, fill: fill)
        }
    }

    /// Free and locked amount per asset.
    public func accountBalance(_ asset: String) async throws -> Double {
        let all = try await balances()
        return (all[asset]?.free ?? 0) + (all[asset]?.locked ?? 0)
    }

    public func balances() async throws -> [String: (free: Double, locked: Double)] {
        // Shared for a second: engines that reconcile together cost one weight-20 request, not one each.
        let json = try await cached("account", kind: "account", ttl: settings.accountTTL) {
            try await self.get("/api/v3/account", [("timestamp", String(Int64(Clock.wall() * 1000)))], weight: 20)
        }
        guard let rows = json["balances"]?.arrayValue else { throw ExchangeError.malformed("account: no balances") }
        var out: [String: (free: Double, locked: Double)] = [:]
        for row in rows {
            guard let asset = row["asset"]?.stringValue else { continue }
            out[asset] = (
                try ExchangeClient.decimal(row, "free", context: "account", allowZero: true),
                try ExchangeClient.decimal(row, "locked", context: "account", allowZero: true)
            )
        }
        return out
    }
}
