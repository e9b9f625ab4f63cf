/// A pub/sub connection of its own (a subscribed connection takes no other commands):
/// SUBSCRIBE / PSUBSCRIBE, then messages as they come, under RESP2 or RESP3.
public final class RedisSubscriber {
    public struct Message: Equatable, Sendable {
        public var channel: String
        /// The pattern that matched, for PSUBSCRIBE deliveries.
        public var pattern: String?
        public var payload: [UInt8]
    }

    public let connection: RedisConnection

    public init(_ url: RedisURL, timeout: Double = 5) throws(RedisError) {
        connection = try RedisConnection(url, timeout: timeout)
    }

    public func subscribe(_ channels: [String]) throws(RedisError) {
        try confirm(["SUBSCRIBE"] + channels, kind: "subscribe", count: channels.count)
    }

    public func psubscribe(_ patterns: [String]) throws(RedisError) {
        try confirm(["PSUBSCRIBE"] + patterns, kind: "psubscribe", count: patterns.count)
    }

    private func confirm(_ command: [String], kind: String, count: Int) throws(RedisError) {
        try connection.send(RESPValue.command(command))
        var confirmed = 0
        while confirmed < count {
            let reply = try connection.read()
            if let e = reply.errorMessage { throw .server(e) }
            if reply.elements?.first?.string == kind { confirmed += 1 }
        }
    }

    /// The next published message within `seconds`, or nil.
    public func next(within seconds: Double) throws(RedisError) -> Message? {
        guard let reply = try connection.read(within: seconds) else { return nil }
        return RedisSubscriber.message(reply)
    }

    /// `["message", channel, payload]` or `["pmessage", pattern, channel, payload]` (as an array
    /// under RESP2, a push under RESP3); anything else (confirmations) is nil.
    static func message(_ reply: RESPValue) -> Message? {
        guard let parts = reply.elements, let kind = parts.first?.string else { return nil }
        if kind == "message", parts.count == 3, let channel = parts[1].string, let payload = parts[2].bytes {
            return Message(channel: channel, pattern: nil, payload: payload)
        }
        if kind == "pmessage", parts.count == 4, let pattern = parts[1].string, let channel = parts[2].string,
            let payload = parts[3].bytes
        {
            return Message(channel: channel, pattern: pattern, payload: payload)
        }
        return nil
    }
}
