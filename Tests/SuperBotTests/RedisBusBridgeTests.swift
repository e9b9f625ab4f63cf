import Glibc
import Redis
import Testing

@testable import SuperBotDaemon

/// What the bridge puts on Redis reads back as what was published.
@Suite struct RedisBusBridgeTests {
    @Test func framedPublishesParseBackToTheirEnvelopes() throws {
        var framer = RedisBusBridge.PublishFramer(channelPrefix: "p:bus.o-1.", origin: "o-1", host: "box")
        var batch: [(topic: String, data: [UInt8], source: String)] = [
            ("price.BTCUSDT.update", Array(#"{"price":65000.5}"#.utf8), "trading"),
            ("a.b", Array("[1,\"é\"]".utf8), "pid:42"), ("a.b", Array("null".utf8), "pid:42"),
            ("a.b", Array("{}".utf8), "trading"), ("price.BTCUSDT.update", Array("2".utf8), "trading"),
        ]
        // A run longer than the limit is split.
        batch += (0..<300).map { ("c.d", Array("\($0)".utf8), "m") }
        var pending = PendingPublishes()
        for m in batch { pending.append(topic: m.topic, data: m.data[...], source: m.source) }
        let framed = framer.frame(pending)
        // A run is one topic from one source.
        #expect(framed.runs == [1, 2, 1, 1, 256, 44])
        var parser = RESPParser()
        parser.append(framed.bytes)
        var got: [(topic: String, data: [UInt8], source: String)] = []
        for _ in framed.runs {
            let command = try #require(try parser.next()?.elements)
            #expect(command.first?.string == "PUBLISH")
            let channel = try #require(command[1].string)
            #expect(channel.hasPrefix("p:bus.o-1."))
            let envelope = try #require(RedisBusBridge.Envelope(decoding: command[2].bytes!))
            #expect(envelope.origin == "o-1" && envelope.host == "box")
            got += envelope.messages.map { (String(channel.dropFirst("p:bus.o-1.".count)), $0.data, $0.source) }
        }
        #expect(try parser.next() == nil && parser.buffered == 0)
        #expect(got.map(\.topic) == batch.map(\.topic))
        #expect(got.map(\.data) == batch.map(\.data))
        #expect(got.map(\.source) == batch.map(\.source))
    }

    /// What the loop hands over keeps every message's topic, data, source and order, and a
    /// full outbox takes only the oldest of a turn's messages (the rest are counted as dropped).
    @Test func pendingPublishesKeepOrderAndTakeAPrefixWhenFull() {
        func messages(_ p: PendingPublishes) -> [String] {
            var out: [String] = []
            p.forEachMessage { topic, data, source in
                out.append("\(topic) \(String(decoding: data, as: UTF8.self)) \(source)")
            }
            return out
        }
        var turn = PendingPublishes()
        let sent = (0..<600).map { i in (i < 300 ? "a.b" : "c.\(i % 2)", "\(i)", i % 7 == 0 ? "x" : "y") }
        for m in sent { turn.append(topic: m.0, data: Array(m.1.utf8)[...], source: m.2) }
        #expect(turn.count == 600)
        #expect(turn.runs.allSatisfy { $0.ends.count <= PendingPublishes.runLimit })
        let expected = sent.map { "\($0.0) \($0.1) \($0.2)" }
        #expect(messages(turn) == expected)
        var outbox = PendingPublishes()
        #expect(outbox.append(turn, limit: 1_000) == 600)
        #expect(messages(outbox) == expected)
        #expect(outbox.append(turn, limit: 10) == 10)
        #expect(messages(outbox) == expected + expected.prefix(10))
        outbox.removeAll()
        #expect(outbox.isEmpty && messages(outbox).isEmpty)
        #expect(outbox.append(turn, limit: 0) == 0 && outbox.isEmpty)
    }

    /// The subscription leaves out exactly this daemon's channels: every other origin's message
    /// matches one pattern (so Redis sends it once), ours none. Checked with fnmatch, whose
    /// `*`, `[^x]` and backslash escapes are Redis's.
    @Test func theSubscriptionPatternsMatchEveryOriginButOursOnce() {
        let own = RedisBusBridge.newOrigin()
        #expect(own.count == 16 && own.allSatisfy(\.isHexDigit))
        let prefix = "dep*[1]:bus."
        let patterns = RedisBusBridge.excludingPatterns(prefix: prefix, origin: own)
        #expect(patterns.count == 16)
        func matches(_ origin: String) -> Int {
            patterns.filter { fnmatch($0, prefix + origin + ".price.BTCUSDT.update", 0) == 0 }.count
        }
        #expect(matches(own) == 0)
        var others = (0..<200).map { _ in RedisBusBridge.newOrigin() }
        // Origins that differ from ours in one digit only, at each place.
        for i in 0..<16 {
            var digits = Array(own)
            digits[i] = digits[i] == "0" ? "1" : "0"
            others.append(String(digits))
        }
        for origin in others where origin != own { #expect(matches(origin) == 1, "\(origin) vs \(own)") }
        // The prefix is taken literally: another deployment's channels match nothing.
        #expect(patterns.allSatisfy { fnmatch($0, "depX1:bus." + others[0] + ".a.b", 0) != 0 })
    }

    @Test func envelopesThatCouldBreakAMessageAreRefused() {
        for text in [
            #"{"o":"x","h":"h","s":"a\"b","d":1}"#, #"{"o":"x","h":"h\\n","s":"s","d":1}"#,
            #"{"o":"x","h":"h","s":"s"}"#,
            #"{"o":"x","h":"h","s":"s","d":[1,}"#, "not json", #"{"o":"x","h":"","s":"s","d":1}"#,
            // Batches: empty, mixed with a single message, an element without data, a bad source.
            #"{"o":"x","h":"h","m":[]}"#, #"{"o":"x","h":"h","s":"s","d":1,"m":[{"s":"s","d":1}]}"#,
            #"{"o":"x","h":"h","m":[{"s":"s","d":1},{"s":"s"}]}"#,
            #"{"o":"x","h":"h","m":[{"s":"s","d":1},{"s":"a b","d":2}]}"#, #"{"o":"x","h":"h","m":{"s":"s","d":1}}"#,
            #"{"o":"x","h":"h","m":[{"s":"s","d":1},]}"#,
        ] {
            #expect(RedisBusBridge.Envelope(decoding: Array(text.utf8)) == nil, "\(text)")
        }
        #expect(RedisBusBridge.Envelope(decoding: Array(#"{"o":"x","h":"h","s":"s@h","d":{"k":[1]}}"#.utf8)) != nil)
        let batch = RedisBusBridge.Envelope(
            decoding: Array(#"{"o":"x","h":"h","m":[{"s":"a","d":1},{"d":[2],"s":"b"}]}"#.utf8))
        #expect(batch?.messages.map(\.source) == ["a", "b"])
        #expect(batch?.messages.map { String(decoding: $0.data, as: UTF8.self) } == ["1", "[2]"])
    }
}
