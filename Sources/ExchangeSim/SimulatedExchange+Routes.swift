import HTTP
import JSON

/// The Binance spot REST surface (`/api/v3/...`), plus `/health` and the simulator's own
/// `/sim/stats` and `/sim/faults` (tests and benchmarks change faults without a restart).
extension SimulatedExchange {
    /// The answer to a request that is not HTTP: Binance's error body.
    public static func parseErrorResponse(_ error: HTTPParseError) -> HTTPResponse {
        var response = HTTPResponse(
            status: error.status, contentType: "application/json;charset=UTF-8",
            body: JSON.object(["code": -1100, "msg": .string(error.message)]).serializedBytes())
        response.headers.set("Connection", "close")
        return response
    }

    public func handle(_ request: HTTPRequest, now: Double) -> Outcome {
        stats.requests += 1
        let path = request.path
        let params: [String: String]
        do {
            params = try Self.parameters(of: request)
        } catch let r {
            return .respond(error(r.status, r.code, r.message))
        }
        if !path.hasPrefix("/api/") { return .respond(handleLocal(request.method, path, params)) }
        let weight = SimulatedExchange.weight(request.method, path, params)
        var headers: [(String, String)] = []
        switch limiter.admit(weight: weight, now: now) {
        case .limited(let retryAfter, let used):
            stats.rateLimited += 1
            return .respond(
                error(
                    429, -1003,
                    "Too many requests; current limit of IP(127.0.0.1) is \(limiter.limit) request weight per \(Int(limiter.window)) s. Retry after \(retryAfter) s.",
                    headers: [("Retry-After", String(retryAfter)), ("X-MBX-USED-WEIGHT-1M", String(used))]))
        case .allowed(let used):
            headers.append(("X-MBX-USED-WEIGHT-1M", String(used)))
        }
        // Injected faults, decided before the request runs (except a lost reply, decided after).
        if faults.dropRate > 0, faultRandom.unit() < faults.dropRate {
            stats.faultsInjected += 1
            return .drop
        }
        if faults.errorRate > 0, faultRandom.unit() < faults.errorRate {
            stats.faultsInjected += 1
            return finish(
                error(
                    faultRandom.unit() < 0.5 ? 500 : 503, -1001,
                    "Internal error; unable to process your request. Please try again."))
        }
        if faults.garbageRate > 0, faultRandom.unit() < faults.garbageRate {
            stats.faultsInjected += 1
            return finish(
                HTTPResponse(
                    status: 200, contentType: "application/json", body: Array("{\"symbol\":\"BTC<html>garbage".utf8)))
        }
        var response: HTTPResponse
        do throws(Rejection) {
            switch apiRoutes.match(method: request.method, path: path) {
            case .found(let route, _): response = try route(self)(params, now)
            case .methodNotAllowed:
                throw Rejection(-1000, "Method \(request.method) is not allowed on \(path).", status: 405)
            case .notFound: throw Rejection(-1000, "Unknown endpoint \(path).", status: 404)
            }
        } catch let r {
            response = error(r.status, r.code, r.message)
        }
        for (name, value) in headers { response.headers.add(name, value) }
        if faults.loseReplyRate > 0, faultRandom.unit() < faults.loseReplyRate {
            stats.faultsInjected += 1
            return .drop
        }
        return finish(response)
    }

    /// Query-string parameters, then the body's: form-encoded as Binance takes them, or a JSON
    /// object (for `/sim/faults` from scripts). A body that is neither is refused, not ignored.
    static func parameters(of request: HTTPRequest) throws(Rejection) -> [String: String] {
        let contentType = request.headers["content-type"]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else { return request.parameters }
        var out = request.queryParameters
        guard !request.body.isEmpty else { return out }
        guard case .object(let members)? = try? JSON.parse(request.body) else {
            throw Rejection(
                -1100,
                "The request body is not a JSON object; send an object like {\"error_rate\": 0.1} or form fields.")
        }
        for (key, value) in members {
            switch value {
            case .string(let text): out[key] = text
            case .integer(let i): out[key] = String(i)
            case .number(let n): out[key] = String(n)
            case .bool(let b): out[key] = String(b)
            default: throw Rejection(-1100, "Parameter '\(key)' must be a string, number or boolean.")
            }
        }
        return out
    }

    private func finish(_ response: HTTPResponse) -> Outcome {
        let latency = faults.latencyMs + (faults.latencyJitterMs > 0 ? faultRandom.unit() * faults.latencyJitterMs : 0)
        return latency > 0 ? .delayed(latency / 1000, response) : .respond(response)
    }

    private func handleLocal(_ method: String, _ path: String, _ p: [String: String]) -> HTTPResponse {
        switch (method, path) {
        case ("GET", "/health"):
            return json(["status": "ok", "symbols": JSON(symbolOrder.count), "requests": JSON(stats.requests)])
        case ("GET", "/sim/stats"):
            return json([
                "requests": JSON(stats.requests), "orders_placed": JSON(stats.ordersPlaced),
                "rate_limited": JSON(stats.rateLimited),
                "faults_injected": JSON(stats.faultsInjected), "weight_used": JSON(limiter.used),
                "open_orders": JSON(openOrderIDs.count),
            ])
        case ("POST", "/sim/faults"):
            return setFaults(p)
        case (_, "/health"), (_, "/sim/stats"), (_, "/sim/faults"):
            return error(405, -1000, "Method \(method) is not allowed on \(path).")
        default:
            return error(404, -1000, "Unknown endpoint \(method) \(path)")
        }
    }

    static let faultKeys = [
        "latency_ms", "latency_jitter_ms", "error_rate", "drop_rate", "lose_reply_rate", "garbage_rate",
    ]

    private func setFaults(_ p: [String: String]) -> HTTPResponse {
        if let unknown = p.keys.sorted().first(where: { !Self.faultKeys.contains($0) }) {
            return error(
                400, -1100, "Unknown fault setting '\(unknown)'; known: \(Self.faultKeys.joined(separator: ", ")).")
        }
        func rate(_ key: String, _ current: Double) -> Double? {
            guard let text = p[key] else { return current }
            guard let v = Double(text), v.isFinite, v >= 0 else { return nil }
            return v
        }
        guard let latency = rate("latency_ms", faults.latencyMs),
            let jitter = rate("latency_jitter_ms", faults.latencyJitterMs),
            let errorRate = rate("error_rate", faults.errorRate), let drop = rate("drop_rate", faults.dropRate),
            let lose = rate("lose_reply_rate", faults.loseReplyRate),
            let garbage = rate("garbage_rate", faults.garbageRate),
            [errorRate, drop, lose, garbage].allSatisfy({ $0 <= 1 })
        else {
            return error(400, -1100, "fault settings must be non-negative numbers (rates at most 1)")
        }
        faults.latencyMs = latency
        faults.latencyJitterMs = jitter
        faults.errorRate = errorRate
        faults.dropRate = drop
        faults.loseReplyRate = lose
        faults.garbageRate = garbage
        return json([
            "latency_ms": JSON(latency), "error_rate": JSON(errorRate), "drop_rate": JSON(drop),
            "lose_reply_rate": JSON(lose), "garbage_rate": JSON(garbage),
        ])
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

    typealias Route = (SimulatedExchange) -> ([String: String], Double) throws(Rejection) -> HTTPResponse

    static func apiRouter() -> HTTPRouter<Route> {
        var r = HTTPRouter<Route>()
        r.add("GET", "/api/v3/ping", SimulatedExchange.ping)
        r.add("GET", "/api/v3/time", SimulatedExchange.time)
        r.add("GET", "/api/v3/exchangeInfo", SimulatedExchange.exchangeInfoRoute)
        r.add("GET", "/api/v3/ticker/price", SimulatedExchange.tickerPrice)
        r.add("GET", "/api/v3/ticker/bookTicker", SimulatedExchange.bookTicker)
        r.add("GET", "/api/v3/depth", SimulatedExchange.depth)
        r.add("GET", "/api/v3/klines", SimulatedExchange.klines)
        r.add("POST", "/api/v3/order", SimulatedExchange.newOrder)
        r.add("GET", "/api/v3/order", SimulatedExchange.queryOrder)
        r.add("DELETE", "/api/v3/order", SimulatedExchange.cancelOrder)
        r.add("GET", "/api/v3/openOrders", SimulatedExchange.openOrders)
        r.add("GET", "/api/v3/account", SimulatedExchange.account)
        r.add("GET", "/api/v3/myTrades", SimulatedExchange.myTrades)
        return r
    }
}
