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
    public func write(into out: inout [UInt8], keepAlive: Bool, headOnly: Bool = false) {
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\n"
        for field in headers.fields where !HTTPResponse.framing.contains(field.name.lowercased()) {
            head += "\(field.name): \(field.value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        out.append(contentsOf: head.utf8)
        if !headOnly { out.append(contentsOf: body) }
    }

    /// The head of a streamed body: chunked for HTTP/1.1, unframed (ended by closing) for HTTP/1.0.
    func writeStreamHead(into out: inout [UInt8], chunked: Bool) {
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\n"
        for field in headers.fields { head += "\(field.name): \(field.value)\r\n" }
        head += chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n"
        head += "\r\n"
        out.append(contentsOf: head.utf8)
    }

    /// Fields the server writes itself, from the body and the connection's state.
    private static let framing: Set<String> = ["content-length", "connection", "transfer-encoding"]

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
