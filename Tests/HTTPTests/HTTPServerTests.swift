import Dispatch
import Glibc
import HTTP
import SuperBotTesting
import SystemKit
import Testing

/// A server on port 0 with a few routes, on a loop thread of its own.
func startServer(
    _ limits: HTTPServer.Limits = HTTPServer.Limits(), _ extra: ((HTTPRequest, HTTPResponseWriter) -> Bool)? = nil
) throws -> LoopThread<HTTPServer> {
    try LoopThread { loop in
        try HTTPServer(loop: loop, host: "127.0.0.1", port: 0, limits: limits) { request, writer in
            if let extra, extra(request, writer) { return }
            switch request.path {
            case "/ping": writer.respond(.text("pong"))
            case "/echo":
                writer.respond(HTTPResponse(status: 200, contentType: "application/octet-stream", body: request.body))
            default: writer.respond(.text("no route", status: 404))
            }
        }
    }
}

@Suite(.serialized) struct HTTPServerTests {
    @Test(.timeLimit(.minutes(1))) func thirtyThousandPipelinedRequestsOnOneConnection() throws {
        let server = try startServer()
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        let count = 30_000
        let burst = Array(String(repeating: "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n", count: count).utf8)
        // Written from another thread: the server answers while the client is still sending.
        let writer = DispatchSemaphore(value: 0)
        let fd = client.fd
        DispatchQueue.global().async {
            try? Socket.sendAll(fd, burst)
            writer.signal()
        }
        var answered = 0
        while let response = try client.next() {
            #expect(response.status == 200)
            answered += 1
            if answered == count { break }
        }
        writer.wait()
        #expect(answered == count)
        try client.send("GET /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nok")
        #expect(try client.next()?.body == Array("ok".utf8))
    }

    @Test(.timeLimit(.minutes(1))) func aClientThatNeverReadsIsHeldToTheOutputBound() throws {
        var limits = HTTPServer.Limits()
        limits.maxOutputBytes = 64 << 10
        let server = try startServer(limits)
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port, bufferBytes: 32 << 10)
        Socket.setNonBlocking(client.fd)
        // Pipeline until the kernel refuses more: the server must stop reading, not buffer without end.
        let request = Array("GET /ping HTTP/1.1\r\n\r\n".utf8)
        var batch: [UInt8] = []
        for _ in 0..<1000 { batch += request }
        var sent = 0
        let deadline = Clock.monotonic() + 20
        var stalls = 0
        while Clock.monotonic() < deadline && stalls < 50 {
            let offset = sent % batch.count
            let n = batch.withUnsafeBytes {
                send(client.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                sent += n
                stalls = 0
            } else {
                stalls += 1
                Clock.sleep(0.01)
            }
        }
        #expect(stalls >= 50, "the server kept reading a client that never reads")
        let buffered = server.sync { $0.bufferedOutputBytes }
        #expect(buffered <= limits.maxOutputBytes + 4096, "server holds \(buffered) unread bytes")
        // Nothing is lost: reading now brings an answer for every complete request sent.
        Socket.setNonBlocking(client.fd, false)
        let complete = sent / request.count
        var answered = 0
        while answered < complete, let response = try client.next() {
            #expect(response.status == 200)
            answered += 1
        }
        #expect(answered == complete)
    }

    @Test(.timeLimit(.minutes(1))) func slowlorisConnectionsTimeOutAndNeverLockOutNewClients() throws {
        var limits = HTTPServer.Limits()
        limits.maxConnections = 32
        limits.requestTimeout = 0.5
        let server = try startServer(limits)
        defer { server.stop { $0.close() } }
        var slow: [HTTPClient] = []
        for _ in 0..<64 {
            let c = try HTTPClient(port: server.value.port)
            try c.send("GET /ping HT")
            slow.append(c)
        }
        // A newcomer is served at once, even with every slot taken by incomplete requests.
        let fresh = try HTTPClient(port: server.value.port)
        try fresh.send("GET /ping HTTP/1.1\r\n\r\n")
        #expect(try fresh.next()?.status == 200)
        // The one byte every so often does not keep a request alive past its deadline.
        let lone = try HTTPClient(port: server.value.port)
        try lone.send("G")
        for _ in 0..<8 {
            Clock.sleep(0.1)
            try? lone.send("E")
        }
        let answer = try lone.next()
        #expect(answer?.status == 408)
        #expect(lone.isClosedByPeer())
        #expect(waitUntil(5) { server.sync { $0.connectionCount } <= 1 })
    }

    @Test func idleConnectionsAreClosedAfterTheIdleTimeout() throws {
        var limits = HTTPServer.Limits()
        limits.idleTimeout = 0.3
        let server = try startServer(limits)
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send("GET /ping HTTP/1.1\r\n\r\n")
        #expect(try client.next()?.status == 200)
        #expect(waitUntil(5) { server.sync { $0.connectionCount } == 0 })
        #expect(client.isClosedByPeer())
    }

    @Test(arguments: [
        "POST /echo HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nokGET /ping HTTP/1.1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /ping HTTP/1.1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\nGET /ping HTTP/1.1\r\n\r\n",
    ])
    func ambiguousFramingIsRefusedAndTheConnectionClosed(text: String) throws {
        let server = try startServer()
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send(text)
        let response = try client.next()
        #expect(response?.status == 400)
        #expect(response?.headers["connection"] == "close")
        #expect(try client.next() == nil, "a smuggled request was answered")
    }

    @Test func answersFromAnotherThreadKeepPipelinedOrder() throws {
        let server = try startServer(HTTPServer.Limits()) { request, writer in
            guard request.path == "/slow", let bound = writer.bound else { return false }
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) {
                bound.execute { $0.respond(.text("late")) }
            }
            return true
        }
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send("GET /slow HTTP/1.1\r\n\r\nGET /ping HTTP/1.1\r\n\r\n")
        #expect(try client.next()?.body == Array("late".utf8))
        #expect(try client.next()?.body == Array("pong".utf8))
    }

    @Test func chunkedStreamThenTheNextRequest() throws {
        let server = try startServer(HTTPServer.Limits()) { request, writer in
            guard request.path == "/stream", let bound = writer.bound else { return false }
            writer.startStream(HTTPResponse(status: 200, contentType: "text/plain", body: []))
            writer.write(Array("one,".utf8))
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) {
                bound.execute { w in
                    w.write(Array("two,".utf8))
                    w.write(Array("three".utf8))
                    w.finish()
                }
            }
            return true
        }
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send("GET /stream HTTP/1.1\r\n\r\nGET /ping HTTP/1.1\r\n\r\n")
        let streamed = try client.next()
        #expect(streamed?.headers["transfer-encoding"] == "chunked")
        #expect(streamed?.body == Array("one,two,three".utf8))
        #expect(try client.next()?.body == Array("pong".utf8))
    }

    @Test func eventStreamsEncodeServerSentEventsAndEndWithTheClient() throws {
        let closed = Flag()
        let server = try startServer(HTTPServer.Limits()) { request, writer in
            guard request.path == "/events" else { return false }
            writer.onClose = { closed.set() }
            writer.startEventStream()
            writer.send(ServerSentEvent(id: "7", event: "module", data: "{\"a\":1}\nsecond line"))
            writer.send(.heartbeat())
            return true
        }
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send("GET /events HTTP/1.1\r\n\r\n")
        var received: [UInt8] = []
        let wanted = "id: 7\nevent: module\ndata: {\"a\":1}\ndata: second line\n\n"
        #expect(
            waitUntil(5) {
                received += client.readSome()
                let text = String(decoding: received, as: UTF8.self)
                return text.contains(wanted) && text.contains(": heartbeat\n\n")
            })
        #expect(String(decoding: received, as: UTF8.self).contains("Content-Type: text/event-stream"))
        close(client.fd)
        #expect(waitUntil(5) { closed.isSet })
    }

    @Test func aStreamWhoseReaderStopsIsCutOffAtTheBound() throws {
        var limits = HTTPServer.Limits()
        limits.maxOutputBytes = 256 << 10
        let refused = Flag()
        let closed = Flag()
        let server = try startServer(limits) { request, writer in
            guard request.path == "/flood" else { return false }
            writer.onClose = { closed.set() }
            writer.startStream(HTTPResponse(status: 200, contentType: "application/octet-stream", body: []))
            let chunk = [UInt8](repeating: 0x61, count: 16 << 10)
            for _ in 0..<4096 where !refused.isSet {
                if !writer.write(chunk) { refused.set() }
            }
            return true
        }
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send("GET /flood HTTP/1.1\r\n\r\n")
        #expect(waitUntil(5) { refused.isSet && closed.isSet })
        #expect(server.sync { $0.bufferedOutputBytes } == 0)
    }

    @Test func headAnswersCarryNoBodyAndHTTP10Closes() throws {
        let server = try startServer()
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send("HEAD /ping HTTP/1.1\r\n\r\nGET /ping HTTP/1.0\r\n\r\n")
        let head = try client.next(toHEAD: true)
        #expect(head?.status == 200 && head?.headers["content-length"] == "4")
        // A HEAD answer has no body: the next bytes are the GET's answer.
        let get = try client.next()
        #expect(get?.body == Array("pong".utf8))
        #expect(get?.headers["connection"] == "close")
        #expect(try client.next() == nil)
    }

    @Test func unparsableRequestsGetTheConfiguredErrorAndAClose() throws {
        let server = try startServer()
        defer { server.stop { $0.close() } }
        let client = try HTTPClient(port: server.value.port)
        try client.send("BREW /pot HTCPCP/1.0\r\n\r\n")
        let response = try client.next()
        #expect(response?.status == 505 || response?.status == 400)
        #expect(try client.next() == nil)
    }
}

/// A flag set on the loop's thread and read by the test.
final class Flag: @unchecked Sendable {
    private let lock = DispatchSemaphore(value: 1)
    private var value = false
    func set() {
        lock.wait()
        value = true
        lock.signal()
    }
    var isSet: Bool {
        lock.wait()
        defer { lock.signal() }
        return value
    }
}

typealias HTTPClient = HTTPTestClient
