import Bus
import JSON
import RPC

/// The fast path for the bus's hottest request.
extension ControlServer {
    /// `bus.publish` without building a JSON tree: validate the line, read the topic, forward
    /// the `data` bytes as they came. Anything unusual falls back to the generic path.
    func fastPublish(_ line: [UInt8], on connection: Connection) -> Bool {
        guard connection.authenticated, line.first == UInt8(ascii: "{"), JSONScanner.isValidUTF8(line) else {
            return false
        }
        var method: Range<Int>?
        var params: Range<Int>?
        var id: Range<Int>?
        var version: Range<Int>?
        var other = false
        let valid = JSONScanner.forEachMember(line) { key, value in
            if JSONScanner.equal(line, key, "method") {
                method = value
            } else if JSONScanner.equal(line, key, "params") {
                params = value
            } else if JSONScanner.equal(line, key, "id") {
                id = value
            } else if JSONScanner.equal(line, key, "jsonrpc") {
                version = value
            } else {
                other = true
            }
        }
        guard valid, !other, let method, JSONScanner.equal(line, method, "\"bus.publish\""), let version,
            JSONScanner.equal(line, version, "\"2.0\""), let params
        else { return false }
        if let id {
            let first = line[id.lowerBound]
            guard
                first == UInt8(ascii: "\"") || first == UInt8(ascii: "-") || first == UInt8(ascii: "n")
                    || (first >= 0x30 && first <= 0x39)
            else { return false }
        }
        var topicRange: Range<Int>?
        var dataRange: Range<Int>?
        let validParams = JSONScanner.forEachMember(line, in: params) { key, value in
            if JSONScanner.equal(line, key, "topic") {
                topicRange = value
            } else if JSONScanner.equal(line, key, "data") {
                dataRange = value
            } else {
                other = true
            }
        }
        guard validParams, !other, let topicRange else { return false }
        let topic: String
        if let known = lastTopic, JSONScanner.equal(line, topicRange, known.bytes) {
            topic = known.topic
            counters.rpcRequests += 1
        } else {
            guard let decoded = JSONScanner.string(line, topicRange) else { return false }
            counters.rpcRequests += 1
            do {
                try Topic.validate(decoded)
            } catch {
                counters.rpcErrors += 1
                if let id {
                    enqueue(ControlServer.rawReply(line[id], error: .invalidParams("\(error)")), to: connection)
                }
                return true
            }
            topic = decoded
            lastTopic = (Array(line[topicRange]), decoded)
        }
        let source = connection.source ?? context.source(of: connection)
        let receivers =
            dataRange.map { relay.publish(topic: topic, bytes: line, range: $0, source: source) }
            ?? relay.publish(topic: topic, bytes: ControlServer.null, range: 0..<4, source: source)
        if let id {
            var reply: [UInt8] = []
            reply.reserveCapacity(64 + id.count)
            appendStatic(#"{"jsonrpc":"2.0","id":"#, to: &reply)
            line.withUnsafeBufferPointer { reply.append(contentsOf: UnsafeBufferPointer(rebasing: $0[id])) }
            appendStatic(#","result":{"delivered":"#, to: &reply)
            JSON.appendDecimal(UInt64(receivers), to: &reply)
            appendStatic("}}\n", to: &reply)
            enqueue(reply, to: connection)
        }
        return true
    }

    static let null = Array("null".utf8)

    static func rawReply(_ id: ArraySlice<UInt8>, error: RPCError) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","id":"#.utf8) + id + Array(#","error":"#.utf8) + error.json.serializedBytes()
            + Array("}\n".utf8)
    }
}
