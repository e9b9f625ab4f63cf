public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A body of `contentType` (the server adds the length).
    public init(status: Int = 200, contentType: String, body: [UInt8]) {
        self.init(status: status, headers: ["Content-Type": contentType], body: body)
    }

    /// A plain-text answer: what the server sends for errors when no richer body is configured.
    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    public var keepAlive: Bool { headers["connection"]?.lowercased() != "close" }

    public func serialized(keepAlive: Bool) -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out, keepAlive: keepAlive)
        return out
    }

    /// Appends the bytes on the wire; `headOnly` answers a HEAD request (the length stays that of the body).
    /// Written byte by byte into `out`, with no intermediate strings: this runs once per answer.
    public func write(into out: inout [UInt8], keepAlive: Bool, headOnly: Bool = false) {
        out.reserveCapacity(out.count + 128 + body.count)
        writeStatusLine(into: &out)
        for field in headers.fields where !HTTPResponse.isFraming(field.name) {
            HTTPResponse.append(field, to: &out)
        }
        out.append(contentsOf: "Content-Length: ".utf8)
        out.append(contentsOf: String(body.count).utf8)
        out.append(contentsOf: keepAlive ? "\r\n\r\n".utf8 : "\r\nConnection: close\r\n\r\n".utf8)
        if !headOnly { out.append(contentsOf: body) }
    }

    /// The head of a streamed body: chunked for HTTP/1.1, unframed (ended by closing) for HTTP/1.0.
    func writeStreamHead(into out: inout [UInt8], chunked: Bool) {
        writeStatusLine(into: &out)
        for field in headers.fields { HTTPResponse.append(field, to: &out) }
        out.append(contentsOf: chunked ? "Transfer-Encoding: chunked\r\n\r\n".utf8 : "Connection: close\r\n\r\n".utf8)
    }

    private func writeStatusLine(into out: inout [UInt8]) {
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status).utf8)
        out.append(0x20)
        out.append(contentsOf: HTTPResponse.reason(status).utf8)
        out.append(contentsOf: [0x0D, 0x0A])
    }

    private static func append(_ field: (name: String, value: String), to out: inout [UInt8]) {
        out.append(contentsOf: field.name.utf8)
        out.append(contentsOf: [0x3A, 0x20])
        out.append(contentsOf: field.value.utf8)
        out.append(contentsOf: [0x0D, 0x0A])
    }

    /// Fields the server writes itself, from the body and the connection's state (compared
    /// without allocating a lower-cased copy).
    private static let framing = ["content-length", "connection", "transfer-encoding"]

    private static func isFraming(_ name: String) -> Bool {
        framing.contains { f in
            f.utf8.count == name.utf8.count
                && zip(f.utf8, name.utf8).allSatisfy { $0 == ($1 >= 0x41 && $1 <= 0x5A ? $1 | 0x20 : $1) }
        }
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 418: "I'm a teapot"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}
