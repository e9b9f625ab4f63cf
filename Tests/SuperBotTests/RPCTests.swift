import JSON
import Testing

@testable import RPC

@Suite struct LineFramerTests {
    static let stream = Array("{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":1}\n{\"x\":1}\r\n\n[1,2]\n".utf8)

    /// Byte by byte, in odd chunks and all at once: the same lines come out.
    @Test(arguments: [1, 2, 3, 7, 64, 10_000])
    func chunkedInputYieldsTheSameLines(_ chunk: Int) throws {
        var framer = LineFramer(maxBytes: 1024)
        var lines: [[UInt8]] = []
        var index = 0
        while index < Self.stream.count {
            framer.append(Self.stream[index..<min(index + chunk, Self.stream.count)])
            index += chunk
            while let line = try framer.next() { lines.append(line) }
        }
        #expect(
            lines.map { String(decoding: $0, as: UTF8.self) } == [
                "{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":1}", "{\"x\":1}", "", "[1,2]",
            ])
        #expect(framer.bufferedBytes == 0)
    }

    @Test func oversizedLineIsRefusedEvenWithoutNewline() {
        var framer = LineFramer(maxBytes: 16)
        framer.append(Array(repeating: UInt8(ascii: "a"), count: 17))
        #expect(throws: LineFramer.TooLarge.self) { try framer.next() }
        var withNewline = LineFramer(maxBytes: 16)
        withNewline.append(Array(repeating: UInt8(ascii: "a"), count: 20) + [0x0A])
        #expect(throws: LineFramer.TooLarge.self) { try withNewline.next() }
    }
}

@Suite struct RPCMessageTests {
    func parse(_ text: String) -> RPCIncoming { RPCIncoming.parse(Array(text.utf8)) }

    @Test func validRequestAndNotification() {
        #expect(
            parse(#"{"jsonrpc":"2.0","method":"m","params":{"a":1},"id":"x"}"#)
                == .single(.success(RPCRequest(id: "x", method: "m", params: ["a": 1]))))
        guard case .single(.success(let n)) = parse(#"{"jsonrpc":"2.0","method":"m"}"#) else {
            Issue.record("not parsed")
            return
        }
        #expect(n.isNotification)
    }

    @Test func specErrorCodes() {
        #expect(parse("{oops") == .invalid(.parseError("expected a string key at byte 1")))
        guard case .invalid(let empty) = parse("[]") else {
            Issue.record("empty batch accepted")
            return
        }
        #expect(empty.code == -32600)
        let cases: [(String, JSON)] = [
            (#"{"jsonrpc":"1.0","method":"m","id":1}"#, 1),
            (#"{"jsonrpc":"2.0","method":5,"id":2}"#, 2),
            (#"{"jsonrpc":"2.0","method":"m","params":"x","id":3}"#, 3),
            (#"{"jsonrpc":"2.0","method":"m","id":{}}"#, .null),
            ("5", .null),
        ]
        for (text, id) in cases {
            guard case .single(.failure(let failure)) = parse(text) else {
                Issue.record("accepted \(text)")
                continue
            }
            #expect(failure.error.code == -32600, "\(text)")
            #expect(failure.id == id, "\(text)")
        }
    }

    @Test func batchesKeepOrderAndMixValidity() {
        guard
            case .batch(let entries) = parse(
                #"[{"jsonrpc":"2.0","method":"a","id":1},1,{"jsonrpc":"2.0","method":"b"}]"#)
        else {
            Issue.record("not a batch")
            return
        }
        #expect(entries.count == 3)
        #expect((try? entries[0].get())?.method == "a")
        #expect((try? entries[1].get()) == nil)
        #expect((try? entries[2].get())?.isNotification == true)
    }

    @Test func responsesAreSpecShaped() {
        #expect(RPCResponse.result(id: 1, "ok").serialized() == #"{"id":1,"jsonrpc":"2.0","result":"ok"}"#)
        #expect(
            RPCResponse.error(id: .null, .methodNotFound("x")).serialized()
                == #"{"error":{"code":-32601,"message":"Method not found: x"},"id":null,"jsonrpc":"2.0"}"#)
    }
}
