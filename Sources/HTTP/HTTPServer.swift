import Glibc
import JSON
import SystemKit

/// A small HTTP/1.1 server on an `EventLoop`: keep-alive, pipelining (answers in order), bounded
/// heads and bodies, idle connections closed. The handler answers through `respond`, now or
/// later (a delayed answer holds back the connection's next request); `nil` drops the connection
/// without an answer (how the simulator injects a vanished server).
public final class HTTPServer {
    public typealias Respond = (HTTPResponse?) -> Void
    public typealias Handler = (HTTPRequest, @escaping Respond) -> Void

    private final class Connection {
        let fd: Int32
        var parser: HTTPParser
        var output: [UInt8] = []
        var outputOffset = 0
        var busy = false
        var closeWhenFlushed = false
        var peerClosed = false
        var lastActive: Double
        var writable = false
        init(fd: Int32, parser: HTTPParser, now: Double) {
            self.fd = fd
            self.parser = parser
            lastActive = now
        }
    }

    public let port: UInt16
    public let idleTimeout: Double
    public let maxConnections: Int
    private let loop: EventLoop
    private let listener: Int32
    private let handler: Handler
    private var connections: [Int32: Connection] = [:]
    private var buffer = [UInt8](repeating: 0, count: 65536)

    public init(loop: EventLoop, host: String, port: UInt16, idleTimeout: Double = 60, maxConnections: Int = 4096, handler: @escaping Handler) throws {
        self.loop = loop
        self.handler = handler
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        listener = try Socket.listenTCP(host: host, port: port, backlog: 1024)
        self.port = Socket.localPort(listener)
        try loop.register(listener, .readable) { [unowned self] _ in acceptAll() }
        sweepIdle()
    }

    public func close() {
        loop.unregister(listener)
        Glibc.close(listener)
        for fd in Array(connections.keys) { drop(fd) }
    }

    private func acceptAll() {
        while let fd = Socket.accept(listener) {
            guard connections.count < maxConnections else {
                Glibc.close(fd)
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connection = Connection(fd: fd, parser: HTTPParser(.request, maxBodyBytes: 1 << 20), now: Clock.monotonic())
            connections[fd] = connection
            do {
                try loop.register(fd, [.readable, .hangup]) { [unowned self] events in onEvents(fd, events) }
            } catch {
                connections.removeValue(forKey: fd)
                Glibc.close(fd)
            }
        }
    }

    private func onEvents(_ fd: Int32, _ events: EventLoop.Events) {
        guard let c = connections[fd] else { return }
        if events.contains(.writable) { flush(c) }
        guard connections[fd] != nil else { return }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) { read(c) }
    }

    private func read(_ c: Connection) {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                c.parser.append(buffer[0..<n])
                c.lastActive = Clock.monotonic()
                if n < buffer.count { break }
                continue
            }
            if n < 0 && (errno == EINTR) { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            // EOF or a reset: answer what is already queued, then close.
            c.peerClosed = true
            break
        }
        processNext(c)
        if c.peerClosed && !c.busy {
            if c.output.count > c.outputOffset { c.closeWhenFlushed = true; flush(c) } else { drop(c.fd) }
        }
    }

    private func processNext(_ c: Connection) {
        while !c.busy && !c.closeWhenFlushed && connections[c.fd] === c {
            let request: HTTPRequest
            do {
                guard let next = try c.parser.nextRequest() else { return }
                request = next
            } catch {
                let body = JSON.object(["code": -1100, "msg": .string(error.message)]).serializedBytes()
                enqueue(c, HTTPResponse(status: error.status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: body), keepAlive: false)
                return
            }
            c.busy = true
            let keepAlive = request.keepAlive
            handler(request) { [weak self, weak c] response in
                guard let self, let c, self.connections[c.fd] === c else { return }
                c.busy = false
                guard let response else { return self.drop(c.fd) }
                self.enqueue(c, response, keepAlive: keepAlive && response.keepAlive)
                if c.peerClosed && !c.busy && !c.closeWhenFlushed {
                    c.closeWhenFlushed = true
                    self.flush(c)
                    return
                }
                self.processNext(c)
            }
        }
    }

    private func enqueue(_ c: Connection, _ response: HTTPResponse, keepAlive: Bool) {
        c.output.append(contentsOf: response.serialized(keepAlive: keepAlive))
        if !keepAlive { c.closeWhenFlushed = true }
        flush(c)
    }

    private func flush(_ c: Connection) {
        while c.outputOffset < c.output.count {
            let n = c.output.withUnsafeBytes { send(c.fd, $0.baseAddress! + c.outputOffset, $0.count - c.outputOffset, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                c.outputOffset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !c.writable {
                    c.writable = true
                    loop.modify(c.fd, [.readable, .writable, .hangup])
                }
                return
            }
            return drop(c.fd)
        }
        c.output.removeAll(keepingCapacity: true)
        c.outputOffset = 0
        if c.writable {
            c.writable = false
            loop.modify(c.fd, [.readable, .hangup])
        }
        if c.closeWhenFlushed { drop(c.fd) }
    }

    private func drop(_ fd: Int32) {
        guard connections.removeValue(forKey: fd) != nil else { return }
        loop.unregister(fd)
        Glibc.close(fd)
    }

    private func sweepIdle() {
        loop.schedule(after: min(5, idleTimeout / 2)) { [weak self] in
            guard let self else { return }
            let now = Clock.monotonic()
            for (fd, c) in connections where !c.busy && now - c.lastActive > idleTimeout { drop(fd) }
            sweepIdle()
        }
    }
}
