public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The request target as sent: `/api/v3/depth?symbol=BTCUSDT`.
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// HTTP/1.x minor version (0 or 1).
    public var minorVersion: Int

    public init(
        method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], minorVersion: Int = 1
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.minorVersion = minorVersion
    }

    /// The target without its query (found on the UTF-8 bytes: no grapheme breaking per request).
    public var path: String {
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[..<q])
    }

    /// The query string's parameters (a repeated name keeps its last value).
    public var queryParameters: [String: String] {
        var out: [String: String] = [:]
        if let q = target.firstIndex(of: "?") {
            for (k, v) in HTTPQuery.parse(String(target[target.index(after: q)...])) { out[k] = v }
        }
        return out
    }

    /// Query-string parameters followed by form-encoded body parameters (Binance accepts either).
    public var parameters: [String: String] {
        var out = queryParameters
        if !body.isEmpty, headers["content-type"]?.hasPrefix("application/x-www-form-urlencoded") ?? true,
            let text = String(validating: body, as: UTF8.self)
        {
            for (k, v) in HTTPQuery.parse(text) { out[k] = v }
        }
        return out
    }

    /// HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 closes unless asked to keep it.
    public var keepAlive: Bool {
        let connection = headers["connection"]?.lowercased()
        return minorVersion >= 1 ? connection != "close" : connection == "keep-alive"
    }

    /// The bytes on the wire (a Content-Length is added for a body).
    public func serialized(host: String) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n"
        for field in headers.fields { head += "\(field.name): \(field.value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }
}
