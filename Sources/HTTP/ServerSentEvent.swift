/// One Server-Sent Events message (WHATWG HTML, "Server-sent events"): `id:` lets a client resume
/// with `Last-Event-ID`; a comment alone is a heartbeat that keeps proxies from timing out.
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String?
    public var retryMilliseconds: Int?
    public var comment: String?

    public init(
        id: String? = nil, event: String? = nil, data: String? = nil, retryMilliseconds: Int? = nil,
        comment: String? = nil
    ) {
        self.id = id
        self.event = event
        self.data = data
        self.retryMilliseconds = retryMilliseconds
        self.comment = comment
    }

    public static func heartbeat(_ text: String = "heartbeat") -> ServerSentEvent { ServerSentEvent(comment: text) }

    /// The wire form. Line breaks inside a field would end it early, so `data` is split into one
    /// `data:` line per line and the other fields lose theirs.
    public func encoded() -> [UInt8] {
        var out = ""
        func single(_ text: String) -> String { String(text.filter { $0 != "\n" && $0 != "\r" }) }
        if let comment { out += ": \(single(comment))\n" }
        if let id { out += "id: \(single(id))\n" }
        if let event { out += "event: \(single(event))\n" }
        if let retryMilliseconds { out += "retry: \(retryMilliseconds)\n" }
        if let data {
            for line in data.split(
                omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            {
                out += "data: \(line)\n"
            }
        }
        out += "\n"
        return Array(out.utf8)
    }
}
