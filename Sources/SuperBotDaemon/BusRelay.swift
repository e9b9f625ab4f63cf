import Bus
import Glibc
import JSON
import SystemKit

/// The daemon's publish/subscribe relay. A publish is matched against a segment trie, encoded
/// once — the publisher's `data` bytes are copied, never decoded and re-encoded — and queued on
/// each matching connection. Delivery is at-most-once and in order per publisher.
final class BusRelay {
    /// The control server, or the Redis bridge in front of it; the daemon keeps it alive and
    /// swaps it when a reload changes `infrastructure.bus`.
    unowned var backend: any BusBackend
    private var trie = SubscriptionTrie<Int>()
    /// Patterns per subscribed connection id.
    private var patterns: [Int: Set<String>] = [:]
    private var connections: [Int: Connection] = [:]
    /// The connections the last topic matched: a publisher in a loop repeats its topic, and
    /// this skips the trie and the id lookups. Dropped on any change of subscriptions.
    private var lastMatch: (topic: String, targets: [Connection])?
    private var seq: UInt64 = 0
    private(set) var published = 0
    private(set) var delivered = 0
    /// Called for every local publish (the daemon watches heartbeats through it).
    var observer: (String) -> Void = { _ in }

    static let maxPatternsPerConnection = 10_000

    init(backend: any BusBackend) { self.backend = backend }

    var subscriptionCount: Int { trie.count }

    func subscribe(_ connection: Connection, _ pattern: String) throws -> Int {
        try Topic.validatePattern(pattern)
        var mine = patterns[connection.id] ?? []
        guard mine.count < BusRelay.maxPatternsPerConnection || mine.contains(pattern) else {
            throw Topic.Invalid(
                description: "a connection may hold at most \(BusRelay.maxPatternsPerConnection) subscriptions")
        }
        mine.insert(pattern)
        patterns[connection.id] = mine
        connections[connection.id] = connection
        trie.insert(pattern, connection.id)
        lastMatch = nil
        return mine.count
    }

    /// Removes one pattern, or all of the connection's when `pattern` is nil; returns how many remain.
    func unsubscribe(_ connection: Connection, _ pattern: String?) -> Int {
        var mine = patterns[connection.id] ?? []
        for p in pattern.map({ [$0] }) ?? Array(mine) where mine.remove(p) != nil {
            trie.remove(p, connection.id)
        }
        if mine.isEmpty {
            patterns[connection.id] = nil
            connections[connection.id] = nil
        } else {
            patterns[connection.id] = mine
        }
        lastMatch = nil
        return mine.count
    }

    func connectionClosed(_ connection: Connection) { _ = unsubscribe(connection, nil) }

    /// Relays `bytes[range]` (the raw text of one JSON value) on `topic`; returns the number of
    /// local receivers. `local: false` is a message a bridge brought from elsewhere: it is not
    /// handed back to the backend to forward.
    @discardableResult
    func publish(topic: String, bytes: [UInt8], range: Range<Int>, source: String, local: Bool = true) -> Int {
        published += 1
        let backend = self.backend
        // Heartbeats and forwarding are this host's business: a bridged message is neither.
        if local {
            observer(topic)
            backend.didPublish(topic: topic, data: bytes[range], source: source)
        }
        let receivers: [Connection]
        if let last = lastMatch, last.topic == topic {
            receivers = last.targets
        } else {
            receivers = trie.match(topic).compactMap { connections[$0] }
            lastMatch = (topic, receivers)
        }
        guard !receivers.isEmpty else { return 0 }
        seq += 1
        // One buffer for every subscriber: the queues share it.
        var message: [UInt8] = []
        message.reserveCapacity(range.count + topic.utf8.count + source.utf8.count + 110)
        appendStatic(#"{"jsonrpc":"2.0","method":"bus.message","params":{"topic":""#, to: &message)
        appendUTF8(topic, to: &message)
        appendStatic(#"","source":""#, to: &message)
        appendUTF8(source, to: &message)
        appendStatic(#"","seq":"#, to: &message)
        JSON.appendDecimal(seq, to: &message)
        appendStatic(#","ts":"#, to: &message)
        let now = Clock.wall()
        let micros = UInt64(now * 1_000_000)
        JSON.appendDecimal(micros / 1_000_000, to: &message)
        message.append(UInt8(ascii: "."))
        JSON.appendDecimal(micros % 1_000_000, width: 6, to: &message)
        appendStatic(#","data":"#, to: &message)
        bytes.withUnsafeBufferPointer { message.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
        appendStatic("}}\n", to: &message)
        for connection in receivers { backend.deliver(message, to: connection) }
        delivered += receivers.count
        return receivers.count
    }

    @discardableResult
    func publish(topic: String, _ data: JSON, source: String = "daemon") -> Int {
        let bytes = data.serializedBytes()
        return publish(topic: topic, bytes: bytes, range: 0..<bytes.count, source: source)
    }

}

/// Appends a literal's bytes (no lazy global, no reference counting: the hot path's framing).
@inline(__always)
func appendStatic(_ literal: StaticString, to out: inout [UInt8]) {
    out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
}

@inline(__always)
func appendUTF8(_ text: String, to out: inout [UInt8]) {
    var text = text
    text.withUTF8 { out.append(contentsOf: $0) }
}
