import Redis
import Testing

@testable import SuperBotDaemon

/// What the bridge puts on Redis reads back as what was published.
@Suite struct RedisBusBridgeTests {
    @Test func framedPublishesParseBackToTheirEnvelopes() throws {
        var framer = RedisBusBridge.PublishFramer(prefix: "p:bus.", origin: "o-1", host: "box")
        let batch: [(topic: String, data: [UInt8], source: String)] = [
            ("price.BTCUSDT.update", Array(#"{"price":65000.5}"#.utf8), "trading"),
            ("a.b", Array("[1,\"é\"]".utf8), "pid:42"), ("a.b", Array("null".utf8), "trading"),
        ]
        var parser = RESPParser()
        parser.append(framer.frame(batch))
        for m in batch {
            let command = try #require(try parser.next()?.elements)
            #expect(command.map { $0.string ?? "" }.prefix(2) == ["PUBLISH", "p:bus." + m.topic])
            let envelope = try #require(RedisBusBridge.Envelope(decoding: command[2].bytes!))
            #expect(envelope.origin == "o-1" && envelope.host == "box" && envelope.source == m.source)
            #expect(envelope.data == m.data)
        }
        #expect(try parser.next() == nil && parser.buffered == 0)
    }

    @Test func envelopesThatCouldBreakAMessageAreRefused() {
        for text in [
            #"{"o":"x","h":"h","s":"a\"b","d":1}"#, #"{"o":"x","h":"h\\n","s":"s","d":1}"#,
            #"{"o":"x","h":"h","s":"s"}"#,
            #"{"o":"x","h":"h","s":"s","d":[1,}"#, "not json", #"{"o":"x","h":"","s":"s","d":1}"#,
        ] {
            #expect(RedisBusBridge.Envelope(decoding: Array(text.utf8)) == nil, "\(text)")
        }
        #expect(RedisBusBridge.Envelope(decoding: Array(#"{"o":"x","h":"h","s":"s@h","d":{"k":[1]}}"#.utf8)) != nil)
    }
}
