import Bus
import Dispatch
import Glibc
import JSON
import Redis
import Synchronization
import SystemKit

/// The bus across hosts (`infrastructure.bus.backend: redis`). Local delivery is the control
/// server's, untouched; every local publish is also queued for Redis on channel
/// `<prefix>bus.<topic>`, and every message on `<prefix>bus.*` from another daemon is relayed
/// here as if published locally (but not forwarded back). Redis work happens on two threads of
/// the bridge's own (one publishing, one subscribed), so a slow or dead Redis never stalls the
/// loop: while it is down, local relaying goes on, messages for other hosts are counted as
/// dropped (at-most-once stays the contract), and the threads reconnect with backoff.
final class RedisBusBridge: BusBackend {
    /// What crosses Redis: `{"o": origin, "h": host, "s": source, "d": data}` (data verbatim).
    struct Envelope {
        var origin: String
        var host: String
        var source: String
        var data: [UInt8]

        /// nil for anything that is not exactly such an object with valid JSON data.
        init?(decoding bytes: [UInt8]) {
            guard JSONScanner.isValidUTF8(bytes) else { return nil }
            var o: String?
            var h: String?
            var s: String?
            var d: Range<Int>?
            let valid = JSONScanner.forEachMember(bytes) { key, value in
                if JSONScanner.equal(bytes, key, "o") {
                    o = JSONScanner.string(bytes, value)
                } else if JSONScanner.equal(bytes, key, "h") {
                    h = JSONScanner.string(bytes, value)
                } else if JSONScanner.equal(bytes, key, "s") {
                    s = JSONScanner.string(bytes, value)
                } else if JSONScanner.equal(bytes, key, "d") {
                    d = value
                }
            }
            // Host and source are copied into bus.message lines as they are: plain names only.
            guard valid, let o, let h, let s, let d, Envelope.isName(h), Envelope.isName(s) else { return nil }
            self.init(origin: o, host: h, source: s, data: Array(bytes[d]))
        }

        static func isName(_ text: String) -> Bool {
            !text.isEmpty && text.utf8.count <= 128
                && text.utf8.allSatisfy { c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                        || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
                        || c == UInt8(ascii: ":") || c == UInt8(ascii: "@")
                }
        }

        init(origin: String, host: String, source: String, data: [UInt8]) {
            self.origin = origin
            self.host = host
            self.source = source
            self.data = data
        }
    }

    struct Counters: Sendable, Equatable {
        var forwarded = 0
        var received = 0
        /// Local publishes that did not reach Redis (down, or the outbox was full).
        var dropped = 0
        /// Our own messages coming back from Redis, not delivered twice.
        var echoes = 0
        /// Messages from Redis that were not ours to read (bad envelope or topic).
        var rejected = 0
        var reconnects = 0
    }

    /// State the threads and the loop share.
    final class Shared: Sendable {
        struct State {
            /// Local publishes waiting for the publishing thread, which frames them (off the loop).
            var outbox: [(topic: String, data: [UInt8], source: String)] = []
            var counters = Counters()
            var up = false
            var lastError: String?
            var stopping = false
        }
        let state = Mutex(State())
        let wake = DispatchSemaphore(value: 0)
    }

    static let outboxLimit = 100_000

    unowned let server: ControlServer
    /// Set once the relay exists (it is built on this backend).
    weak var relay: BusRelay?
    let url: RedisURL
    let prefix: String
    let origin: String
    let host: String
    let shared = Shared()
    private let executor: LoopExecutor
    /// Called on the loop when Redis goes down (with why) or comes back (nil).
    var onState: (_ down: String?) -> Void = { _ in }

    init(server: ControlServer, loop: EventLoop, url: RedisURL, prefix: String, origin: String) throws {
        self.server = server
        self.url = url
        self.prefix = prefix + "bus."
        self.origin = origin
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        host = Envelope.isName(text) ? text : "host"
        executor = try LoopExecutor(loop: loop)
    }

    func deliver(_ message: [UInt8], to connection: Connection) { server.deliver(message, to: connection) }

    func didPublish(topic: String, data: ArraySlice<UInt8>, source: String) {
        let wasEmpty = shared.state.withLock { s -> Bool in
            guard s.up, s.outbox.count < RedisBusBridge.outboxLimit else {
                s.counters.dropped += 1
                return false
            }
            s.outbox.append((topic, Array(data), source))
            return s.outbox.count == 1
        }
        // The thread takes everything queued at once: one wake-up per batch, not per message.
        if wasEmpty { shared.wake.signal() }
    }

    var counters: Counters { shared.state.withLock { $0.counters } }

    /// Starts the publishing and the subscribed thread.
    func start() {
        let (shared, url, prefix, origin, executor) = (shared, url, prefix, origin, executor)
        let relay = LoopBound(self, executor: executor)
        let framer = PublishFramer(prefix: prefix, origin: origin, host: host)
        DispatchQueue(label: "superbot.redis-publish").async {
            var framer = framer
            RedisBusBridge.publishLoop(
                shared: shared, url: url, frame: { framer.frame($0) },
                report: { down in relay.execute { $0.stateChanged(down) } })
        }
        DispatchQueue(label: "superbot.redis-subscribe").async {
            RedisBusBridge.subscribeLoop(shared: shared, url: url, pattern: prefix + "*", ownHead: framer.head) {
                channel, envelope in
                guard channel.hasPrefix(prefix) else { return .rejected }
                let topic = String(channel.dropFirst(prefix.count))
                guard (try? Topic.validate(topic)) != nil else { return .rejected }
                guard envelope.origin != origin else { return .echo }
                relay.execute { bridge in
                    let source = envelope.source + "@" + envelope.host
                    bridge.relay?.publish(
                        topic: topic, bytes: envelope.data, range: 0..<envelope.data.count, source: source, local: false
                    )
                }
                return .relayed
            }
        }
    }

    func stop() {
        shared.state.withLock { $0.stopping = true }
        shared.wake.signal()
    }

    private var alerted = false
    private var everUp = false

    /// One alert per outage, and one when it ends.
    private func stateChanged(_ down: String?) {
        if let down {
            guard !alerted else { return }
            alerted = true
            onState(down)
        } else {
            if everUp { shared.state.withLock { $0.counters.reconnects += 1 } }
            everUp = true
            if alerted {
                alerted = false
                onState(nil)
            }
        }
    }

    // MARK: Threads

    /// Publishes the outbox in pipelined batches; on a failure drops the batch, reports the
    /// outage once and reconnects after a backoff.
    static func publishLoop(
        shared: Shared, url: RedisURL, frame: ([(topic: String, data: [UInt8], source: String)]) -> [UInt8],
        report: @escaping @Sendable (String?) -> Void
    ) {
        var backoff = Backoff(base: 0.1, cap: 5)
        var connection: RedisConnection?
        while !shared.state.withLock({ $0.stopping }) {
            if connection == nil {
                do {
                    connection = try RedisConnection(url, timeout: 2)
                    backoff.reset()
                    shared.state.withLock { $0.up = true }
                    report(nil)
                } catch {
                    shared.state.withLock {
                        $0.up = false
                        $0.lastError = error.description
                    }
                    report(error.description)
                    _ = shared.wake.wait(timeout: .now() + backoff.next(unit: Double.random(in: 0..<1)))
                    continue
                }
            }
            _ = shared.wake.wait(timeout: .now() + 0.5)
            let batch = shared.state.withLock { s -> [(topic: String, data: [UInt8], source: String)] in
                defer { s.outbox.removeAll(keepingCapacity: true) }
                return s.outbox
            }
            guard !batch.isEmpty else { continue }
            do {
                let replies = try connection!.pipeline(encoded: frame(batch), count: batch.count)
                let failed = replies.filter { $0.errorMessage != nil }.count
                shared.state.withLock {
                    $0.counters.forwarded += batch.count - failed
                    $0.counters.dropped += failed
                }
            } catch {
                connection = nil
                shared.state.withLock {
                    $0.counters.dropped += batch.count
                    $0.up = false
                    $0.lastError = error.description
                }
                report(error.description)
            }
        }
    }

    enum Verdict { case relayed, echo, rejected }

    /// PSUBSCRIBEs to every bus channel (the local subscriptions then filter exactly, as for
    /// local messages) and hands each message to `deliver`.
    static func subscribeLoop(
        shared: Shared, url: RedisURL, pattern: String, ownHead: [UInt8], deliver: (String, Envelope) -> Verdict
    ) {
        var backoff = Backoff(base: 0.1, cap: 5)
        while !shared.state.withLock({ $0.stopping }) {
            do {
                let subscriber = try RedisSubscriber(url, timeout: 2)
                try subscriber.psubscribe([pattern])
                backoff.reset()
                while !shared.state.withLock({ $0.stopping }) {
                    guard let message = try subscriber.next(within: 0.5) else { continue }
                    // Our own messages come back too: recognised by their first bytes, not parsed.
                    let verdict: Verdict =
                        message.payload.starts(with: ownHead)
                        ? .echo : Envelope(decoding: message.payload).map { deliver(message.channel, $0) } ?? .rejected
                    shared.state.withLock { s in
                        switch verdict {
                        case .relayed: s.counters.received += 1
                        case .echo: s.counters.echoes += 1
                        case .rejected: s.counters.rejected += 1
                        }
                    }
                }
            } catch {
                Clock.sleep(backoff.next(unit: Double.random(in: 0..<1)))
            }
        }
    }

    /// A batch of local publishes as PUBLISH commands in one buffer, envelopes written in place
    /// (the constant head once, each source's JSON text once).
    struct PublishFramer {
        let prefix: [UInt8]
        let head: [UInt8]
        var sources: [String: [UInt8]] = [:]
        static let command = Array("*3\r\n$7\r\nPUBLISH\r\n".utf8)
        static let dataKey = Array(",\"d\":".utf8)

        init(prefix: String, origin: String, host: String) {
            self.prefix = Array(prefix.utf8)
            var h = "{\"o\":"
            JSON.writeString(origin, to: &h)
            h += ",\"h\":"
            JSON.writeString(host, to: &h)
            h += ",\"s\":"
            head = Array(h.utf8)
        }

        mutating func frame(_ batch: [(topic: String, data: [UInt8], source: String)]) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(batch.count * 200)
            for m in batch {
                let source: [UInt8]
                if let known = sources[m.source] {
                    source = known
                } else {
                    var s = ""
                    JSON.writeString(m.source, to: &s)
                    source = Array(s.utf8)
                    if sources.count < 10_000 { sources[m.source] = source }
                }
                out += PublishFramer.command
                RESPValue.appendBulkHeader(prefix.count + m.topic.utf8.count, to: &out)
                out += prefix
                out += m.topic.utf8
                out += [13, 10]
                RESPValue.appendBulkHeader(head.count + source.count + 5 + m.data.count + 1, to: &out)
                out += head
                out += source
                out += PublishFramer.dataKey
                out += m.data
                out += [UInt8(ascii: "}"), 13, 10]
            }
            return out
        }
    }

    var metricsJSON: JSON {
        let (c, up, error) = shared.state.withLock { ($0.counters, $0.up, $0.lastError) }
        return [
            "backend": "redis", "url": .string(url.description), "state": up ? "up" : "down",
            "last_error": error.map { .string($0) } ?? .null, "forwarded": JSON(c.forwarded),
            "received": JSON(c.received), "dropped": JSON(c.dropped), "echoes_skipped": JSON(c.echoes),
            "rejected": JSON(c.rejected), "reconnects": JSON(c.reconnects), "origin": .string(origin),
        ]
    }
}
