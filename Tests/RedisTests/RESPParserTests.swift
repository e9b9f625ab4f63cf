import Testing

@testable import Redis

/// The RESP reader fed all at once and byte by byte, and given what a broken or hostile server
/// might send.
@Suite struct RESPParserTests {
    static let stream = Array(
        ("+OK\r\n-ERR wrong type\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n$0\r\n\r\n*2\r\n$3\r\nfoo\r\n:1\r\n*-1\r\n*0\r\n"
            + "_\r\n#t\r\n#f\r\n,3.25\r\n,-inf\r\n(3492890328409238509324850943850943825024385\r\n"
            + "=15\r\ntxt:Some string\r\n%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n~2\r\n+x\r\n+y\r\n"
            + ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nhi!\r\n!9\r\nSYNTAX no\r\n|1\r\n+ttl\r\n:3\r\n+annotated\r\n"
            + "*2\r\n*1\r\n+deep\r\n$4\r\nbi\u{0}n\r\n").utf8)

    static let expected: [RESPValue] = [
        .simple("OK"), .error("ERR wrong type"), .integer(-42), .bulk(Array("hello".utf8)), .bulk(nil), .bulk([]),
        .array([.bulk(Array("foo".utf8)), .integer(1)]), .array(nil), .array([]), .null, .boolean(true),
        .boolean(false), .double(3.25), .double(-.infinity), .bigNumber("3492890328409238509324850943850943825024385"),
        .verbatim(format: "txt", text: Array("Some string".utf8)),
        .map([.simple("a"), .integer(1), .simple("b"), .integer(2)]), .set([.simple("x"), .simple("y")]),
        .push([.bulk(Array("message".utf8)), .bulk(Array("ch".utf8)), .bulk(Array("hi!".utf8))]),
        .bulkError(Array("SYNTAX no".utf8)), .simple("annotated"),
        .array([.array([.simple("deep")]), .bulk([98, 105, 0, 110])]),
    ]

    func all(_ p: inout RESPParser) throws -> [RESPValue] {
        var out: [RESPValue] = []
        while let v = try p.next() { out.append(v) }
        return out
    }

    @Test func allAtOnceAndByteByByte() throws {
        var whole = RESPParser()
        whole.append(Self.stream)
        #expect(try all(&whole) == Self.expected)
        #expect(whole.buffered == 0)

        var bytewise = RESPParser()
        var got: [RESPValue] = []
        for b in Self.stream {
            bytewise.append([b])
            while let v = try bytewise.next() { got.append(v) }
        }
        #expect(got == Self.expected)
    }

    @Test func everySplitGivesTheSameReplies() throws {
        let bytes = Self.stream
        for cut in stride(from: 1, to: bytes.count, by: 3) {
            var p = RESPParser()
            p.append(bytes[..<cut])
            var got = try all(&p)
            p.append(bytes[cut...])
            got += try all(&p)
            #expect(got == Self.expected, "split at \(cut)")
        }
    }

    @Test(arguments: [
        ("?what\r\n", "unknown reply type"), ("$abc\r\n", "bad integer"), ("$-2\r\n", "negative length"),
        ("*-5\r\n", "negative count"), ("$3\r\nabcde\r\n", "not followed by CRLF"), (":12\rx", "CR without LF"),
        ("#x\r\n", "boolean"), (",fast\r\n", "bad double"), ("=2\r\nab\r\n", "verbatim"), ("_x\r\n", "null with"),
        ("(12a\r\n", "big number"),
    ])
    func malformedRepliesAreErrors(text: String, message: String) {
        var p = RESPParser()
        p.append(Array(text.utf8))
        #expect {
            _ = try p.next()
        } throws: { ($0 as? RESPParser.ProtocolError)?.description.contains(message) == true }
    }

    @Test func hugeDeclarationsAreRefusedBeforeAnythingIsKept() {
        var limits = RESPParser.Limits()
        limits.maxBulkBytes = 1 << 20
        limits.maxElements = 1000
        for header in ["$9223372036854775807\r\n", "$2000000\r\n", "*1000000000\r\n", "%600\r\n"] {
            var p = RESPParser(limits: limits)
            p.append(Array(header.utf8))
            #expect(throws: RESPParser.ProtocolError.self, "\(header)") { _ = try p.next() }
        }
        // Nesting past the depth limit: an error, not a stack overflow.
        var deep = RESPParser()
        deep.append(Array(String(repeating: "*1\r\n", count: 10_000).utf8))
        #expect(throws: RESPParser.ProtocolError.self) { _ = try deep.next() }
        // A line that never ends.
        var endless = RESPParser()
        endless.append([UInt8(ascii: "+")] + [UInt8](repeating: 65, count: (64 << 10) + 10))
        #expect(throws: RESPParser.ProtocolError.self) { _ = try endless.next() }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        #expect(RESPValue.command(["SET", "k", "v w"]) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv w\r\n".utf8))
    }

    @Test func backoffDoublesUpToTheCapWithJitter() {
        var b = Backoff(base: 0.1, cap: 1)
        #expect(b.next(unit: 0.999) < 0.1 && b.next(unit: 0.5) == 0.1 && b.next(unit: 1) == 0.4)
        for _ in 0..<40 { #expect(b.next(unit: 1) <= 1) }
        b.reset()
        #expect(b.next(unit: 1) == 0.1)
    }
}
