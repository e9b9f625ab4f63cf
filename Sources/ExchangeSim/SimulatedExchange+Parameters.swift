import HTTP
import JSON

/// Binance's parameter rules and error shapes, shared by the routes.
extension SimulatedExchange {
    // MARK: Parameters

    func market(_ p: [String: String], now: Double) throws(Rejection) -> SimMarket {
        guard let symbol = p["symbol"], !symbol.isEmpty else { throw mandatory("symbol") }
        guard markets[symbol] != nil else { throw Rejection(-1121, "Invalid symbol.") }
        advance(symbol, now: now)
        return markets[symbol]!
    }

    func perSymbol(_ p: [String: String], now: Double, _ body: (SimMarket) -> JSON) throws(Rejection) -> HTTPResponse {
        if p["symbol"] != nil { return json(body(try market(p, now: now))) }
        var names = symbolOrder
        if let list = p["symbols"] {
            guard case .array(let items)? = try? JSON.parse(list), items.allSatisfy({ $0.stringValue != nil }) else {
                throw Rejection(
                    -1100,
                    "Illegal characters found in parameter 'symbols'; expected a JSON array like [\"BTCUSDT\",\"ETHUSDT\"]."
                )
            }
            names = items.compactMap(\.stringValue)
            for name in names where markets[name] == nil { throw Rejection(-1121, "Invalid symbol.") }
        }
        for name in names { advance(name, now: now) }
        return json(.array(names.map { body(markets[$0]!) }))
    }

    func mandatory(_ name: String) -> Rejection {
        Rejection(-1102, "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
    }

    /// Binance's decimal rule: digits, optionally a point and more digits; no sign, exponent or NaN.
    func decimal(_ p: [String: String], _ name: String) throws(Rejection) -> Double {
        guard let text = p[name], !text.isEmpty else { throw mandatory(name) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2,
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 20 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
            ),
            let value = Double(text), value.isFinite
        else {
            throw Rejection(
                -1100,
                "Illegal characters found in parameter '\(name)'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
        }
        guard value > 0 else { throw Rejection(-1013, "Invalid \(name): must be greater than zero.") }
        return value
    }

    func intParam(_ p: [String: String], _ name: String, default fallback: Int, range: ClosedRange<Int>)
        throws(Rejection) -> Int
    {
        guard let text = p[name] else { return fallback }
        guard let v = Int(text), range.contains(v) else {
            throw Rejection(
                -1100,
                "Illegal characters found in parameter '\(name)'; legal range is \(range.lowerBound)...\(range.upperBound)."
            )
        }
        return v
    }

    func int64(_ text: String, _ name: String) throws(Rejection) -> Int64 {
        guard let v = Int64(text), v >= 0 else {
            throw Rejection(-1100, "Illegal characters found in parameter '\(name)'.")
        }
        return v
    }

    func choice(_ p: [String: String], _ name: String, _ allowed: [String], code: Int, _ message: String)
        throws(Rejection) -> String
    {
        guard let v = p[name], !v.isEmpty else { throw mandatory(name) }
        guard allowed.contains(v) else { throw Rejection(code, message) }
        return v
    }

    func orderRef(_ p: [String: String]) throws(Rejection) -> (Int64?, String?) {
        let id = try p["orderId"].map { t throws(Rejection) in try int64(t, "orderId") }
        let client = p["origClientOrderId"]
        guard id != nil || client != nil else {
            throw Rejection(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        }
        return (id, client)
    }

    func json(_ value: JSON, status: Int = 200) -> HTTPResponse { json(bytes: value.serializedBytes(), status: status) }

    func json(bytes: [UInt8], status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json;charset=UTF-8", body: bytes)
    }

    func error(_ status: Int, _ code: Int, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
        var response = json(["code": JSON(code), "msg": .string(message)], status: status)
        for (n, v) in headers { response.headers.add(n, v) }
        return response
    }
}
