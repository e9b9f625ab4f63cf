import ExchangeModel
import HTTP
import JSON
import MarketData
import Synchronization
import SystemKit

/// Requests with retries, the weight budget and the cache; decoding Binance's shapes.
extension ExchangeClient {
    // MARK: Requests

    func cached(_ key: String, kind: String, ttl: Double, _ fetch: () async throws -> JSON) async throws -> JSON {
        if let hit = cache.get(key, kind: kind) { return hit }
        // The account is this client's own; market data is the same for everyone on this exchange.
        let shared = kind == "account" ? nil : sharedCache
        let sharedKey = "exchange:\(settings.baseURL):\(key)"
        if let shared, let hit = await shared.get(sharedKey) {
            counters.withLock { $0.sharedHits += 1 }
            cache.set(key, hit, ttl: ttl)
            return hit
        }
        let value = try await fetch()
        cache.set(key, value, ttl: ttl)
        if let shared { await shared.set(sharedKey, value, ttl: ttl) }
        return value
    }

    /// An idempotent request, retried on transient errors.
    func get(_ path: String, _ params: [(String, String)], weight: Int) async throws -> JSON {
        try await request("GET", path, params, weight: weight)
    }

    func request(_ method: String, _ path: String, _ params: [(String, String)], weight: Int) async throws -> JSON {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await send(method, path, params, weight: weight)
            } catch let error as ExchangeError {
                try await backoffOrThrow(error, attempt: attempt)
            }
        }
    }

    func backoffOrThrow(_ error: ExchangeError, attempt: Int) async throws {
        guard error.isTransient else {
            counters.withLock { $0.failures += 1 }
            throw error
        }
        guard attempt < settings.maxAttempts else {
            counters.withLock { $0.failures += 1 }
            throw ExchangeError.exhausted(attempts: attempt, last: error.description)
        }
        counters.withLock { $0.retries += 1 }
        if case .rateLimited = error { return }  // the budget holds the next attempt until Retry-After
        let cap = min(settings.maxDelay, settings.baseDelay * Double(1 << min(attempt - 1, 20)))
        try await Task.sleep(for: .seconds(cap / 2 + Double.random(in: 0...(cap / 2))))
    }

    /// One attempt: budget, send, classify the answer.
    func send(_ method: String, _ path: String, _ params: [(String, String)], weight: Int) async throws -> JSON {
        try await budget.acquire(weight)
        counters.withLock { $0.requests += 1 }
        let query = HTTPQuery.encode(params)
        var headers = HTTPHeaders([("Accept", "application/json")])
        if let key = settings.apiKey { headers.add("X-MBX-APIKEY", key) }
        let request: HTTPRequest
        if method == "POST" {
            headers.add("Content-Type", "application/x-www-form-urlencoded")
            request = HTTPRequest(method: method, target: path, headers: headers, body: Array(query.utf8))
        } else {
            request = HTTPRequest(method: method, target: query.isEmpty ? path : path + "?" + query, headers: headers)
        }
        let response = try await pool.send(request)
        if let used = response.headers["x-mbx-used-weight-1m"].flatMap(Int.init) { budget.observe(usedWeight: used) }
        let json = try? JSON.parse(response.body)
        switch response.status {
        case 200..<300:
            guard let json else {
                throw ExchangeError.malformed("\(path): the body is not JSON (\(response.body.count) bytes)")
            }
            return json
        case 429, 418:
            let retryAfter = response.headers["retry-after"].flatMap(Double.init) ?? 1
            budget.block(retryAfter: retryAfter)
            throw ExchangeError.rateLimited(retryAfter: retryAfter)
        case 500...:
            throw ExchangeError.server(
                status: response.status, message: json?["msg"]?.stringValue ?? "HTTP \(response.status)")
        default:
            guard let code = json?["code"]?.intValue, let message = json?["msg"]?.stringValue else {
                throw ExchangeError.rejected(
                    status: response.status, code: 0, message: "HTTP \(response.status) from \(path)")
            }
            throw ExchangeError.rejected(status: response.status, code: code, message: message)
        }
    }

    // MARK: Decoding

    static func decimal(_ json: JSON, _ key: String, context: String, allowZero: Bool = false) throws -> Double {
        let value: Double? =
            switch json[key] {
            case .string(let s)?: Double(s)
            case let number?: number.doubleValue
            case nil: nil
            }
        guard let value, value.isFinite, allowZero ? value >= 0 : value > 0 else {
            throw ExchangeError.malformed(
                "\(context): '\(key)' is not a \(allowZero ? "non-negative" : "positive") number")
        }
        return value
    }

    static func orderResult(_ json: JSON, side: OrderSide) throws -> OrderResult {
        guard let symbol = json["symbol"]?.stringValue, let id = json["orderId"]?.doubleValue,
            let client = json["clientOrderId"]?.stringValue,
            let status = json["status"]?.stringValue
        else {
            throw ExchangeError.malformed("order: missing symbol, orderId, clientOrderId or status")
        }
        let executed = try decimal(json, "executedQty", context: "order \(client)", allowZero: true)
        let fills = try (json["fills"]?.arrayValue ?? []).map { f in
            guard let tradeId = f["tradeId"]?.doubleValue else {
                throw ExchangeError.malformed("order \(client): fill without tradeId")
            }
            return Fill(
                tradeId: Int64(tradeId), price: try decimal(f, "price", context: "fill"),
                qty: try decimal(f, "qty", context: "fill"),
                commission: try decimal(f, "commission", context: "fill", allowZero: true),
                commissionAsset: f["commissionAsset"]?.stringValue ?? "")
        }
        return OrderResult(
            symbol: symbol, orderId: Int64(id), clientOrderId: client,
            side: OrderSide(rawValue: json["side"]?.stringValue ?? "") ?? side,
            status: status, executedQty: executed, fills: fills,
            time: json["time"]?.int64Value ?? json["transactTime"]?.int64Value)
    }
}
