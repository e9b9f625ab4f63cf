import Glibc
import SystemKit

/// An HTTP/1.1 server on an `EventLoop`, with no knowledge of what it serves: keep-alive,
/// pipelining (answers in request order), streamed bodies (chunked, Server-Sent Events).
///
/// It is built to face clients that misbehave: requests on a connection are taken one after the
/// other in a loop (never by recursion, however deep the pipeline); a request must arrive whole
/// within `requestTimeout` of its first byte (slowloris); a client that does not read its answers
/// stops being read once `maxOutputBytes` wait for it, and is dropped after `idleTimeout` without
/// progress; at `maxConnections` the longest-quiet connection makes room for a new one.
public final class HTTPServer {
    public typealias Handler = (HTTPRequest, HTTPResponseWriter) -> Void

    public struct Limits: Sendable {
        public var maxConnections = 1024
        /// Seconds a connection may sit with nothing to do.
        public var idleTimeout = 60.0
        /// Seconds from a request's first byte to its last.
        public var requestTimeout = 10.0
        public var maxHeadBytes = 16 << 10
        public var maxBodyBytes = 1 << 20
        /// Unread answer bytes per connection before the server stops reading it (and before a
        /// stream's reader is disconnected).
        public var maxOutputBytes = 4 << 20

        public init() {}
    }

    public let port: UInt16
    public let limits: Limits
    /// Submits work to this server's loop from any thread.
    public let executor: LoopExecutor
    private let loop: EventLoop
    private let listener: Int32
    private let handler: Handler
    private let errorResponse: (HTTPParseError) -> HTTPResponse
    private var connections: [Int32: HTTPConnection] = [:]
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private var sweepTimer: EventLoop.TimerID?

    /// `errorResponse` shapes the answer to a request that cannot be parsed (plain text by default).
    public init(
        loop: EventLoop, host: String, port: UInt16, limits: Limits = Limits(),
        errorResponse: @escaping (HTTPParseError) -> HTTPResponse = { .text($0.message + "\n", status: $0.status) },
        handler: @escaping Handler
    ) throws {
        self.loop = loop
        self.limits = limits
        self.handler = handler
        self.errorResponse = errorResponse
        executor = try LoopExecutor(loop: loop)
        listener = try Socket.listenTCP(host: host, port: port, backlog: 1024)
        self.port = Socket.localPort(listener)
        try loop.register(listener, .readable) { [unowned self] _ in acceptAll() }
        let previous = loop.onTurnEnd
        loop.onTurnEnd = { [weak self] in
            previous()
            self?.flushStreams()
        }
        scheduleSweep()
    }

    /// Open connections (for metrics and tests).
    public var connectionCount: Int { connections.count }
    /// Answer bytes queued and not yet taken by clients, all connections together.
    public var bufferedOutputBytes: Int { connections.values.reduce(0) { $0 + $1.pendingOutput } }

    public func close() {
        loop.cancel(sweepTimer)
        loop.unregister(listener)
        Glibc.close(listener)
        for fd in Array(connections.keys) { drop(fd) }
    }

    // MARK: Connections

    private func acceptAll() {
        while let fd = Socket.accept(listener) {
            if connections.count >= limits.maxConnections {
                guard let victim = quietest() else {
                    Glibc.close(fd)
                    continue
                }
                drop(victim.fd)
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let parser = HTTPParser(.request, maxHeadBytes: limits.maxHeadBytes, maxBodyBytes: limits.maxBodyBytes)
            let c = HTTPConnection(fd: fd, parser: parser, now: Clock.monotonic())
            connections[fd] = c
            do {
                try loop.register(fd, [.readable, .hangup]) { [unowned self] events in onEvents(c, events) }
            } catch {
                connections.removeValue(forKey: fd)
                Glibc.close(fd)
            }
        }
    }

    /// The connection to close for a newcomer: the slowest incomplete request, else the longest idle.
    private func quietest() -> HTTPConnection? {
        var best: HTTPConnection?
        var bestSince = Double.infinity
        for c in connections.values where c.isQuiet {
            // An incomplete request ranks before any idle connection.
            let since = c.partialSince.map { $0 - 1e12 } ?? c.idleSince
            if since < bestSince {
                best = c
                bestSince = since
            }
        }
        return best
    }

    private func onEvents(_ c: HTTPConnection, _ events: EventLoop.Events) {
        guard c.isOpen else { return }
        if events.contains(.error) { return drop(c.fd) }
        if events.contains(.writable) { flush(c) }
        guard c.isOpen else { return }
        let hangup = !events.isDisjoint(with: .hangup)
        if c.readPaused || c.peerClosed {
            // Not listening for input: a hang-up here would otherwise fire on every turn.
            if hangup && !events.contains(.writable) { drop(c.fd) }
            return
        }
        if events.contains(.readable) || hangup { read(c) }
    }

    private func read(_ c: HTTPConnection) {
        let now = Clock.monotonic()
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                c.parser.append(buffer[0..<n])
                if c.partialSince == nil { c.partialSince = now }
                if n < buffer.count || c.parser.bufferedCount >= maxBuffered { break }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            // EOF or a reset: answer what is already queued, then close.
            c.peerClosed = true
            break
        }
        process(c)
    }

    /// Input held for one connection before the server stops reading it: one whole request.
    private var maxBuffered: Int { limits.maxHeadBytes + limits.maxBodyBytes }

    /// Takes the connection's buffered requests one by one while nothing holds them back.
    private func process(_ c: HTTPConnection) {
        guard !c.processing else { return }
        c.processing = true
        defer { c.processing = false }
        while c.isOpen, c.current == nil, !c.closeWhenFlushed, c.pendingOutput < limits.maxOutputBytes {
            let request: HTTPRequest
            do {
                guard let next = try c.parser.nextRequest() else { break }
                request = next
            } catch {
                enqueue(c, errorResponse(error), keepAlive: false, headOnly: false)
                break
            }
            c.partialSince = c.parser.bufferedCount > 0 ? Clock.monotonic() : nil
            let writer = HTTPResponseWriter(server: self, connection: c, request: request)
            c.current = writer
            handler(request, writer)
        }
        guard c.isOpen else { return }
        if c.parser.bufferedCount == 0 { c.partialSince = nil }
        if c.peerClosed && c.current?.state == .streaming {
            // A stream's reader went away (an event page closed): end it now, not at the next write.
            return drop(c.fd)
        }
        if c.peerClosed && c.current == nil && !c.closeWhenFlushed {
            c.closeWhenFlushed = true
            flush(c)
            guard c.isOpen else { return }
        }
        c.readPaused = c.pendingOutput >= limits.maxOutputBytes || c.parser.bufferedCount >= maxBuffered
        updateInterest(c)
    }

    // MARK: Answers (called by HTTPResponseWriter)

    func complete(_ writer: HTTPResponseWriter, on c: HTTPConnection?, with response: HTTPResponse) {
        guard let c, c.isOpen, c.current === writer else { return }
        c.current = nil
        c.idleSince = Clock.monotonic()
        enqueue(c, response, keepAlive: writer.keepAlive && response.keepAlive, headOnly: writer.headOnly)
        if c.isOpen { process(c) }
    }

    func abort(_ c: HTTPConnection?) {
        if let c, c.isOpen { drop(c.fd) }
    }

    func startStream(_ writer: HTTPResponseWriter, on c: HTTPConnection?, head: HTTPResponse) {
        guard let c, c.isOpen, c.current === writer else { return }
        head.writeStreamHead(into: &c.output, chunked: writer.chunked)
        flush(c)
    }

    /// Queues part of a stream; it goes out at the end of the loop turn, with whatever else the
    /// turn wrote to that stream (an event fanned out to many streams costs one `send` per stream
    /// per turn, not per event).
    func writeStream(_ bytes: [UInt8], chunked: Bool, on c: HTTPConnection) -> Bool {
        guard c.isOpen else { return false }
        if c.pendingOutput + bytes.count > limits.maxOutputBytes {
            flush(c)  // what the turn queued so far, before judging the reader
            guard c.isOpen, c.pendingOutput + bytes.count <= limits.maxOutputBytes else {
                drop(c.fd)
                return false
            }
        }
        if chunked {
            c.output.append(contentsOf: String(bytes.count, radix: 16).utf8)
            c.output.append(contentsOf: [0x0D, 0x0A])
            c.output.append(contentsOf: bytes)
            c.output.append(contentsOf: [0x0D, 0x0A])
        } else {
            c.output.append(contentsOf: bytes)
        }
        if !c.flushQueued {
            c.flushQueued = true
            streamsToFlush.append(c)
        }
        return true
    }

    private var streamsToFlush: [HTTPConnection] = []

    private func flushStreams() {
        guard !streamsToFlush.isEmpty else { return }
        let due = streamsToFlush
        streamsToFlush.removeAll(keepingCapacity: true)
        for c in due {
            c.flushQueued = false
            if c.isOpen { flush(c) }
        }
    }

    func finishStream(_ writer: HTTPResponseWriter, on c: HTTPConnection?) {
        guard let c, c.isOpen, c.current === writer else { return }
        c.current = nil
        c.idleSince = Clock.monotonic()
        if writer.chunked { c.output.append(contentsOf: Array("0\r\n\r\n".utf8)) }
        if !writer.chunked || !writer.keepAlive { c.closeWhenFlushed = true }
        flush(c)
        if c.isOpen { process(c) }
    }

    private func enqueue(_ c: HTTPConnection, _ response: HTTPResponse, keepAlive: Bool, headOnly: Bool) {
        response.write(into: &c.output, keepAlive: keepAlive, headOnly: headOnly)
        if !keepAlive { c.closeWhenFlushed = true }
        flush(c)
    }

    // MARK: Output

    private func flush(_ c: HTTPConnection) {
        while c.outputOffset < c.output.count {
            let n = c.output.withUnsafeBytes {
                send(c.fd, $0.baseAddress! + c.outputOffset, $0.count - c.outputOffset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                c.outputOffset += n
                c.lastWrite = Clock.monotonic()
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !c.writable {
                    c.writable = true
                    updateInterest(c)
                }
                return
            }
            return drop(c.fd)
        }
        c.output.removeAll(keepingCapacity: c.output.capacity <= 1 << 16)
        c.outputOffset = 0
        if c.closeWhenFlushed { return drop(c.fd) }
        if c.writable {
            c.writable = false
            updateInterest(c)
        }
        if c.readPaused && !c.processing {
            // The client caught up: read and answer what it pipelined meanwhile.
            process(c)
        }
    }

    /// Tells epoll what the connection waits for, only when that changed (no syscall per request).
    private func updateInterest(_ c: HTTPConnection) {
        var events: EventLoop.Events = []
        if !c.readPaused && !c.peerClosed { events.formUnion([.readable, .hangup]) }
        if c.writable { events.insert(.writable) }
        guard events != c.interest else { return }
        c.interest = events
        loop.modify(c.fd, events)
    }

    private func drop(_ fd: Int32) {
        guard let c = connections.removeValue(forKey: fd) else { return }
        c.isOpen = false
        loop.unregister(fd)
        Glibc.close(fd)
        c.current?.closed()
        c.current = nil
    }

    // MARK: Deadlines

    private func scheduleSweep() {
        let interval = max(0.05, min(1, min(limits.requestTimeout, limits.idleTimeout) / 4))
        sweepTimer = loop.schedule(after: interval) { [weak self] in
            guard let self else { return }
            sweep(now: Clock.monotonic())
            scheduleSweep()
        }
    }

    private func sweep(now: Double) {
        for c in Array(connections.values) {
            if c.pendingOutput > 0 {
                if now - c.lastWrite > limits.idleTimeout { drop(c.fd) }
            } else if c.current != nil {
                continue  // a handler or a stream is at work
            } else if let since = c.partialSince, now - since > limits.requestTimeout {
                var response = errorResponse(
                    HTTPParseError(408, "request not received within \(limits.requestTimeout) s"))
                response.headers.set("Connection", "close")
                enqueue(c, response, keepAlive: false, headOnly: false)
            } else if c.partialSince == nil && now - c.idleSince > limits.idleTimeout {
                drop(c.fd)
            }
        }
    }
}
