import Bus
import Dispatch
import Glibc
import JSON
import Redis
import Synchronization
import SystemKit

/// The bus across hosts (`infrastructure.bus.backend: redis`). Local delivery is the control
/// server's, untouched; every local publish is also queued for Redis on channel
/// `<prefix>bus.<origin>.<topic>`, and every message on a bus channel of another daemon is
/// relayed here as if published locally (but not forwarded back). The subscription patterns
/// exclude this daemon's own origin, so Redis never sends its messages back to it (no fan-out
/// work in Redis, nothing for the subscribed thread to read and drop). Redis work happens on two threads of
/// the bridge's own (one publishing, one subscribed), so a slow or dead Redis never stalls the
/// loop: while it is down, local relaying goes on, messages for other hosts are counted as
/// dropped (at-most-once stays the contract), and the threads reconnect with backoff.
final class RedisBusBridge: BusBackend {
    /// What crosses Redis: `{"o": origin, "h": host, "s": source, "d": data}` for one message, or
    /// `{"o": origin, "h": host, "m": [{"s": source, "d": data}, …]}` for a run of messages on one
    /// topic published back to back (data verbatim in both).
    struct Envelope {
        var origin: String
        var host: String
        var messages: [(source: String, data: [UInt8])]

        /// nil for anything that is not exactly such an object with valid JSON data.
        init?(decoding bytes: [UInt8]) {
            guard JSONScanner.isValidUTF8(bytes) else { return nil }
            var o: String?
            var h: String?
            var one: (source: String?, data: Range<Int>?) = (nil, nil)
            var batch: Range<Int>?
            let valid = JSONScanner.forEachMember(bytes) { key, value in
                if JSONScanner.equal(bytes, key, "o") {
                    o = JSONScanner.string(bytes, value)
                } else if JSONScanner.equal(bytes, key, "h") {
                    h = JSONScanner.string(bytes, value)
                } else if JSONScanner.equal(bytes, key, "s") {
                    one.source = JSONScanner.string(bytes, value)
                } else if JSONScanner.equal(bytes, key, "d") {
                    one.data = value
                } else if JSONScanner.equal(bytes, key, "m") {
                    batch = value
                }
            }
            // Host and source are copied into bus.message lines as they are: plain names only.
            guard valid, let o, let h, Envelope.isName(h) else { return nil }
            var messages: [(source: String, data: [UInt8])] = []
            switch (one.source, one.data, batch) {
            case (let source?, let data?, nil):
                guard Envelope.isName(source) else { return nil }
                messages = [(source, Array(bytes[data]))]
            case (nil, nil, let batch?):
                var ok = true
                let array = JSONScanner.forEachElement(bytes, in: batch) { element in
                    var source: String?
                    var data: Range<Int>?
                    let member = JSONScanner.forEachMember(bytes, in: element) { key, value in
                        if JSONScanner.equal(bytes, key, "s") {
                            source = JSONScanner.string(bytes, value)
                        } else if JSONScanner.equal(bytes, key, "d") {
                            data = value
                        }
                    }
                    guard ok, member, let source, let data, Envelope.isName(source) else {
                        ok = false
                        return
                    }
                    messages.append((source, Array(bytes[data])))
                }
                guard array, ok, !messages.isEmpty else { return nil }
            default: return nil
            }
            self.init(origin: o, host: h, messages: messages)
        }

        static func isName(_ text: String) -> Bool {
            !text.isEmpty && text.utf8.count <= 128
                && text.utf8.allSatisfy { c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                        || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
                        || c == UInt8(ascii: ":") || c == UInt8(ascii: "@")
                }
        }

        init(origin: String, host: String, messages: [(source: String, data: [UInt8])]) {
            self.origin = origin
            self.host = host
            self.messages = messages
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
            var outbox = PendingPublishes()
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

    /// A daemon's origin: 16 lowercase hex digits, new for each daemon process. The fixed shape
    /// is what lets `excludingPatterns` leave out exactly one origin.
    static func newOrigin() -> String {
        let digits = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Redis glob patterns for every bus channel whose origin is not `origin`: for each digit,
    /// the channels that agree with it before that digit and differ there. They are disjoint,
    /// so Redis delivers a message once, and together they cover every other 16-digit origin.
    static func excludingPatterns(prefix: String, origin: String) -> [String] {
        let head = globEscaped(prefix)
        let digits = Array(origin)
        return digits.indices.map { i in head + String(digits[..<i]) + "[^" + String(digits[i]) + "]*" }
    }

    static func globEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if "*?[]\\^".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

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

    /// This loop turn's local publishes, handed to the publishing thread when the turn ends:
    /// one lock and at most one wake-up per turn, not per message.
    private var turn = PendingPublishes()

    func didPublish(topic: String, data: ArraySlice<UInt8>, source: String) {
        turn.append(topic: topic, data: data, source: source)
    }

    func turnEnded() {
        guard !turn.isEmpty else { return }
        let batch = turn
        turn.removeAll()
        let wasEmpty = shared.state.withLock { s -> Bool in
            let room = s.up ? max(0, RedisBusBridge.outboxLimit - s.outbox.count) : 0
            let wasEmpty = s.outbox.isEmpty
            s.counters.dropped += batch.count - s.outbox.append(batch, limit: room)
            return wasEmpty && !s.outbox.isEmpty
        }
        // The thread takes everything queued at once.
        if wasEmpty { shared.wake.signal() }
    }

    var counters: Counters { shared.state.withLock { $0.counters } }

    /// Starts the publishing and the subscribed thread.
    func start() {
        let (shared, url, prefix, origin, executor) = (shared, url, prefix, origin, executor)
        let relay = LoopBound(self, executor: executor)
        let framer = PublishFramer(channelPrefix: prefix + origin + ".", origin: origin, host: host)
        DispatchQueue(label: "superbot.redis-publish").async {
            var framer = framer
            RedisBusBridge.publishLoop(
                shared: shared, url: url, frame: { framer.frame($0) },
                report: { down in relay.execute { $0.stateChanged(down) } })
        }
        DispatchQueue(label: "superbot.redis-subscribe").async {
            let patterns = RedisBusBridge.excludingPatterns(prefix: prefix, origin: origin)
            RedisBusBridge.subscribeLoop(shared: shared, url: url, patterns: patterns) {
                channel, envelope in
                // Our own channels are not subscribed to: this is another daemon with our origin.
                guard envelope.origin != origin else { return .echo }
                // `<prefix><origin>.<topic>`, the origin the envelope's own.
                let from = prefix + envelope.origin + "."
                guard channel.hasPrefix(from) else { return .rejected }
                let topic = String(channel.dropFirst(from.count))
                guard (try? Topic.validate(topic)) != nil else { return .rejected }
                relay.execute { bridge in
                    for message in envelope.messages {
                        bridge.relay?.publish(
                            topic: topic, bytes: message.data, range: 0..<message.data.count,
                            source: message.source + "@" + envelope.host, local: false)
                    }
                }
                return .relayed(envelope.messages.count)
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
        shared: Shared, url: RedisURL,
        frame: (PendingPublishes) -> (bytes: [UInt8], runs: [Int]),
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
            let batch = shared.state.withLock { s -> PendingPublishes in
                defer { s.outbox = PendingPublishes() }
                return s.outbox
            }
            guard !batch.isEmpty else { continue }
            do {
                let framed = frame(batch)
                let replies = try connection!.pipeline(encoded: framed.bytes, count: framed.runs.count)
                let failed = zip(replies, framed.runs).filter { $0.0.errorMessage != nil }.reduce(0) { $0 + $1.1 }
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

    enum Verdict {
        case relayed(Int)
        case echo, rejected
    }

    /// PSUBSCRIBEs to every other daemon's bus channels (the local subscriptions then filter
    /// exactly, as for local messages) and hands each message to `deliver`.
    static func subscribeLoop(
        shared: Shared, url: RedisURL, patterns: [String], deliver: (String, Envelope) -> Verdict
    ) {
        var backoff = Backoff(base: 0.1, cap: 5)
        while !shared.state.withLock({ $0.stopping }) {
            do {
                let subscriber = try RedisSubscriber(url, timeout: 2)
                try subscriber.psubscribe(patterns)
                backoff.reset()
                while !shared.state.withLock({ $0.stopping }) {
                    guard let message = try subscriber.next(within: 0.5) else { continue }
                    let verdict =
                        Envelope(decoding: message.payload).map { deliver(message.channel, $0) } ?? .rejected
                    shared.state.withLock { s in
                        switch verdict {
                        case .relayed(let count): s.counters.received += count
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
    /// (the constant head once, each source's JSON text once). Each run of messages on one topic
    /// (`PendingPublishes.Run`, up to 256) shares one PUBLISH: Redis then parses, matches and fans
    /// out one command for the run instead of one per message.
    struct PublishFramer {
        /// `<prefix>bus.<origin>.`, before each topic.
        let prefix: [UInt8]
        /// `{"o":…,"h":…,`, the start of every envelope.
        let head: [UInt8]
        var sources: [String: [UInt8]] = [:]
        static let command = Array("*3\r\n$7\r\nPUBLISH\r\n".utf8)

        init(channelPrefix: String, origin: String, host: String) {
            self.prefix = Array(channelPrefix.utf8)
            var h = "{\"o\":"
            JSON.writeString(origin, to: &h)
            h += ",\"h\":"
            JSON.writeString(host, to: &h)
            h += ","
            head = Array(h.utf8)
        }

        /// The commands, and how many messages each carries.
        mutating func frame(_ batch: PendingPublishes) -> (bytes: [UInt8], runs: [Int]) {
            var out: [UInt8] = []
            out.reserveCapacity(batch.bytes.count + batch.count * 32 + batch.runs.count * 96)
            var start = 0
            for run in batch.runs {
                let source = sourceText(run.source)
                let n = run.ends.count
                let data = run.ends.last! - start
                // {"o":…,"h":…,"s":S,"d":D}  or  {"o":…,"h":…,"m":[{"s":S,"d":D},…]}
                let perMessage = 4 + source.count + 5
                let length =
                    n == 1 ? head.count + perMessage + data + 1 : head.count + 5 + (perMessage + 3) * n + data + 1
                out += PublishFramer.command
                RESPValue.appendBulkHeader(prefix.count + run.topic.utf8.count, to: &out)
                out += prefix
                out += run.topic.utf8
                appendStatic("\r\n", to: &out)
                RESPValue.appendBulkHeader(length, to: &out)
                out += head
                if n > 1 { appendStatic(#""m":["#, to: &out) }
                for (k, end) in run.ends.enumerated() {
                    if n > 1 { appendStatic(k == 0 ? "{" : ",{", to: &out) }
                    appendStatic(#""s":"#, to: &out)
                    out += source
                    appendStatic(#","d":"#, to: &out)
                    batch.bytes.withUnsafeBufferPointer {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[start..<end]))
                    }
                    if n > 1 { appendStatic("}", to: &out) }
                    start = end
                }
                appendStatic(n > 1 ? "]}\r\n" : "}\r\n", to: &out)
            }
            return (out, batch.runs.map(\.ends.count))
        }

        private mutating func sourceText(_ source: String) -> [UInt8] {
            if let known = sources[source] { return known }
            var s = ""
            JSON.writeString(source, to: &s)
            let text = Array(s.utf8)
            if sources.count < 10_000 { sources[source] = text }
            return text
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
