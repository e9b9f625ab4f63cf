import JSON
import Testing

@testable import Bus

@Suite struct TopicTests {
    @Test(
        arguments: [
            ("price.*.update", "price.BTCUSDT.update", true),
            ("price.*.update", "price.BTC.USDT.update", false),
            ("price.*.update", "price.update", false),
            ("price.>", "price.BTCUSDT.update", true),
            ("price.>", "price.BTCUSDT", true),
            ("price.>", "price", false),
            (">", "a", true),
            (">", "a.b.c", true),
            ("*", "a", true),
            ("*", "a.b", false),
            ("*.*", "a.b", true),
            ("a.b", "a.b", true),
            ("a.b", "a.bc", false),
            ("a.*.>", "a.x.y.z", true),
            ("a.*.>", "a.x", false),
            ("module.*", "module.started", true),
            ("module.*", "module.web.heartbeat", false),
            ("order.*.*", "order.BTCUSDT.filled", true),
        ] as [(String, String, Bool)])
    func matching(_ pattern: String, _ topic: String, _ expected: Bool) {
        #expect(Topic.matches(topic, pattern: pattern) == expected)
        var trie = SubscriptionTrie<Int>()
        trie.insert(pattern, 1)
        let matched = trie.match(topic)
        #expect(matched == (expected ? [1] : []))
    }

    @Test(
        arguments: [
            ("", "empty"), ("a..b", "empty segment"), (".a", "empty segment"), ("a.", "empty segment"),
            ("price.*.update", "wildcard"), ("a.>", "wildcard"), ("a b", "not allowed"), ("a/b", "not allowed"),
            (String(repeating: "a.", count: 20) + "a", "more than 16 segments"),
            (String(repeating: "x", count: 300), "longer than"),
        ] as [(String, String)])
    func invalidTopics(_ topic: String, _ fragment: String) {
        do {
            try Topic.validate(topic)
            Issue.record("accepted '\(topic)'")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
        }
    }

    @Test func invalidPatterns() {
        #expect(throws: Topic.Invalid.self) { try Topic.validatePattern("a.>.b") }
        #expect(throws: Topic.Invalid.self) { try Topic.validatePattern("a.**.b") }
        #expect(throws: Topic.Invalid.self) { try Topic.validatePattern("a.b*") }
        #expect((try? Topic.validatePattern("a.*.>")) != nil)
    }
}

@Suite struct SubscriptionTrieTests {
    /// The trie agrees with the reference matcher on every pattern × topic pair, with many
    /// subscribers, after removals too.
    @Test func agreesWithTheReferenceMatcher() {
        let patterns = ["a", "a.b", "a.*", "*.b", "a.>", ">", "*", "a.*.c", "a.b.c", "*.*.*", "b.>", "a.*.>", "*.b.>"]
        let topics = ["a", "b", "a.b", "a.c", "b.b", "a.b.c", "a.x.c", "b.c.d", "a.b.c.d", "x.b.y"]
        var trie = SubscriptionTrie<Int>()
        for (i, p) in patterns.enumerated() { trie.insert(p, i) }
        for topic in topics {
            let expected = Set(patterns.indices.filter { Topic.matches(topic, pattern: patterns[$0]) })
            let matched = Set(trie.match(topic))
            #expect(matched == expected, "topic \(topic)")
        }
        for i in stride(from: 0, to: patterns.count, by: 2) {
            let removed = trie.remove(patterns[i], i)
            #expect(removed)
        }
        let again = trie.remove("a", 0)
        #expect(!again, "already removed")
        for topic in topics {
            let expected = Set(patterns.indices.filter { $0 % 2 == 1 && Topic.matches(topic, pattern: patterns[$0]) })
            let matched = Set(trie.match(topic))
            #expect(matched == expected, "after removal, topic \(topic)")
        }
        #expect(trie.count == patterns.count / 2)
    }

    @Test func aSubscriberWithSeveralMatchingPatternsIsListedOnce() {
        var trie = SubscriptionTrie<Int>()
        trie.insert("price.>", 7)
        trie.insert("price.*.update", 7)
        trie.insert("price.BTCUSDT.update", 7)
        let matched = trie.match("price.BTCUSDT.update")
        #expect(matched == [7])
        let twice = trie.insert("price.>", 7)
        #expect(!twice, "idempotent")
    }

    @Test func thousandsOfSubscriptions() {
        var trie = SubscriptionTrie<Int>()
        for i in 0..<5000 { trie.insert("price.SYM\(i).update", i) }
        trie.insert("price.*.update", -1)
        let some = Set(trie.match("price.SYM42.update"))
        let wildcardOnly = trie.match("price.NOPE.update")
        #expect(some == [42, -1])
        #expect(wildcardOnly == [-1])
        #expect(trie.count == 5001)
    }
}

@Suite struct BoundedQueueTests {
    @Test func dropsTheOldestPastCapacityOrBytes() {
        var q = BoundedQueue(capacity: 3, byteLimit: 1000)
        for i in 0..<5 { q.push([UInt8(i)]) }
        #expect(q.count == 3)
        #expect(q.pop() == [2])
        var bytes = BoundedQueue(capacity: 100, byteLimit: 10)
        #expect(bytes.push(Array(repeating: 1, count: 6)) == 0)
        #expect(bytes.push(Array(repeating: 2, count: 6)) == 1)
        #expect(bytes.bytes == 6 && bytes.count == 1)
    }

    @Test func orderSurvivesCompaction() {
        var q = BoundedQueue(capacity: 100_000, byteLimit: 1 << 30)
        var next = 0
        for round in 0..<50 {
            for _ in 0..<(round * 37 % 200) { q.push(Array(String(q.count + next).utf8)) }
            while q.count > 10 {
                _ = q.pop()
                next += 1
            }
        }
        #expect(q.count == 10)
    }
}

@Suite struct JSONScannerTests {
    /// Keys and values of an object as text, or nil if the scanner rejects it.
    func members(_ bytes: [UInt8]) -> [(key: String, value: Range<Int>)]? {
        var out: [(key: String, value: Range<Int>)] = []
        let valid = JSONScanner.forEachMember(bytes) { key, value in
            out.append((String(decoding: bytes[key], as: UTF8.self), value))
        }
        return valid ? out : nil
    }

    @Test func membersAsRanges() throws {
        let text = Array(#" {"topic":"a.b","data":{"x":[1,2,{"y":"}"}]},"n":null} "#.utf8)
        let found = try #require(members(text))
        #expect(found.map(\.key) == ["topic", "data", "n"])
        #expect(String(decoding: text[found[1].value], as: UTF8.self) == #"{"x":[1,2,{"y":"}"}]}"#)
        #expect(JSONScanner.string(text, found[0].value) == "a.b")
        #expect(JSONScanner.equal(text, found[0].value, "\"a.b\""))
    }

    @Test(arguments: [#"{"a":1"#, #"{"a":}"#, #"{"a":1}x"#, "[1]", #"{"a":"\u12"}"#, #"{"a":tru}"#, #"{a:1}"#, ""])
    func rejectsWhatTheParserRejects(_ text: String) {
        #expect(members(Array(text.utf8)) == nil)
        #expect((try? JSON.parse(text))?.objectValue == nil)
    }

    /// Every prefix of a valid publish is either rejected or (the whole line) accepted: never a crash.
    @Test func everyPrefix() {
        let line = Array(
            #"{"jsonrpc":"2.0","method":"bus.publish","params":{"topic":"price.X.update","data":{"p":1.5,"s":"é\n"}},"id":3}"#
                .utf8)
        for end in 0..<line.count { #expect(members(Array(line[..<end])) == nil) }
        #expect(members(line)?.count == 4)
    }
}

@Suite struct RawScannerTests {
    /// The relay's validator accepts and rejects exactly what the full parser does.
    @Test(arguments: [
        #"{"a":1}"#, #"{"a":-0.5e+3}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":"\ud83d\ude00"}"#, #"{"a":"\ud83d"}"#,
        #"{"a":"\udc00"}"#, #"{"a":"\x"}"#, #"{"a":[1,{"b":null}],"c":true}"#, #"{"a":[1,]}"#, #"{"a":tru}"#,
        "{\"a\":\"tab\there\"}", #"{"a":{}}"#, #"{} "#, #"{"a":1}}"#, #"{"a" : [ ] , "b" : "" }"#, "{\"a\":\"\u{7f}\"}",
    ])
    func agreesWithTheParser(_ text: String) {
        let bytes = Array(text.utf8)
        let parsed = (try? JSON.parse(bytes))?.objectValue != nil
        #expect(JSONScanner.forEachMember(bytes) { _, _ in } == parsed, "\(text)")
    }

    /// Strings are skipped eight bytes at a time: a quote, backslash, control or high byte at
    /// every offset of a word, and strings ending at every length, are judged as the parser judges them.
    @Test func wordAtATimeStringsAgreeWithTheParser() {
        let specials: [[UInt8]] = [
            [0x22], [0x5C, 0x22], [0x5C, 0x6E], [0x5C], [0x5C, 0x75, 0x30, 0x30, 0x34, 0x31], [0x5C, 0x71], [0x00],
            [0x1F], [0x20], [0x21], [0x23], [0x5B], [0x5D], [0x7F], [0xC3, 0xA9], [0xF0, 0x9F, 0x98, 0x80], [0x0A],
        ]
        for special in specials {
            for before in 0..<18 {
                for after in [0, 1, 7, 8, 9] {
                    let inner =
                        [UInt8](repeating: 0x61, count: before) + special + [UInt8](repeating: 0x62, count: after)
                    let bytes = Array(#"{"k":""#.utf8) + inner + Array(#"","n":1}"#.utf8)
                    let parsed = (try? JSON.parse(bytes))?.objectValue
                    var values: [Range<Int>] = []
                    let scanned = JSONScanner.forEachMember(bytes) { _, value in values.append(value) }
                    #expect(scanned == (parsed != nil), "\(bytes)")
                    if scanned { #expect(values.count == parsed?.count, "\(bytes)") }
                }
            }
        }
    }

    @Test func utf8Check() {
        #expect(JSONScanner.isValidUTF8(Array("plain ascii text, long enough for words".utf8)))
        #expect(JSONScanner.isValidUTF8(Array("é😀 mixed".utf8)))
        #expect(!JSONScanner.isValidUTF8([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x7D]))
        #expect(!JSONScanner.isValidUTF8(Array("abcdefgh".utf8) + [0xFF]))
    }
}
