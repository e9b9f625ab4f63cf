import HTTP
import Testing

/// Framing rules that keep a connection from being desynchronised (RFC 9112 6.3), fed whole and
/// byte by byte.
@Suite struct HTTPParserFramingTests {
    func firstError(_ text: String, chunk: Int) -> HTTPParseError? {
        var parser = HTTPParser(.request)
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            parser.append(bytes[i..<min(bytes.count, i + chunk)])
            i += chunk
            do {
                while try parser.nextRequest() != nil {}
            } catch {
                return error
            }
        }
        return nil
    }

    @Test(arguments: [1, 1000])
    func conflictingLengthsAndDoubleFramingAreRefused(chunk: Int) {
        #expect(
            firstError("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello", chunk: chunk)?.status
                == 400)
        #expect(
            firstError(
                "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", chunk: chunk)?
                .status == 400)
        #expect(
            firstError(
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                chunk: chunk)?.status == 501)
    }

    /// Found by `make fuzz`: a signed chunk size (`-1`) trapped the parser, which any client of
    /// our servers could send. Sizes are hex digits only.
    @Test(arguments: [1, 1000])
    func signedOrNonHexChunkSizesAreRefused(chunk: Int) {
        for size in ["-1", "+5", " 5", "0x5", "5 ", "g"] {
            let text = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n"
            #expect(firstError(text, chunk: chunk)?.status == 400, "chunk size '\(size)'")
        }
        #expect(
            firstError("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\n\r\n", chunk: chunk)
                == nil)
    }

    @Test(arguments: [1, 1000])
    func repeatedEqualLengthsAreOneLength(chunk: Int) throws {
        var parser = HTTPParser(.request)
        let bytes = Array(
            "POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nokGET / HTTP/1.1\r\n\r\n".utf8)
        var requests: [HTTPRequest] = []
        var i = 0
        while i < bytes.count {
            parser.append(bytes[i..<min(bytes.count, i + chunk)])
            i += chunk
            while let r = try parser.nextRequest() { requests.append(r) }
        }
        #expect(requests.map(\.method) == ["POST", "GET"])
        #expect(requests.first?.body == Array("ok".utf8))
    }

    @Test func serverSentEventsSplitDataLinesAndStripBreaksElsewhere() {
        let event = ServerSentEvent(id: "1\n2", event: "a\rb", data: "x\ny\r\nz", comment: nil)
        #expect(String(decoding: event.encoded(), as: UTF8.self) == "id: 12\nevent: ab\ndata: x\ndata: y\ndata: z\n\n")
        #expect(String(decoding: ServerSentEvent.heartbeat().encoded(), as: UTF8.self) == ": heartbeat\n\n")
    }

    @Test func responsesNeverCarryTwoFramings() {
        var response = HTTPResponse.text("hi")
        response.headers.add("Content-Length", "99")
        response.headers.add("Connection", "keep-alive")
        let text = String(decoding: response.serialized(keepAlive: false), as: UTF8.self)
        #expect(
            text
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
        )
    }
}
