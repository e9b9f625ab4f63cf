import Bus
import Glibc
import JSON
import RPC
import SuperBotConfig
import SystemKit

/// The JSON-RPC 2.0 control socket: newline-delimited messages on a Unix socket (and, with a token,
/// loopback TCP). Non-blocking on the daemon's loop; one slow or hostile client costs only its own
/// buffers, never a stall for the others.
final class ControlServer {
    typealias Reply = (Result<JSON, RPCError>) -> Void
    typealias Handler = (RPCRequest, Connection, @escaping Reply) -> Void

    /// A client that will not read its replies is cut off past this much queued output.
    static let maxOutbox = 32 << 20

    /// The daemon owns the server for the life of the process; `unowned(unsafe)` spares the hot
    /// paths a checked strong load on every access.
    unowned(unsafe) let daemon: Daemon
    let ipc: DaemonConfig.IPC
    let socketPath: String
    var handler: Handler = { _, _, reply in reply(.failure(.internalError("no handler"))) }
    var onClose: (Connection) -> Void = { _ in }
    var requiresAuth: (String) -> Bool = { _ in true }
    /// A reply to a request the daemon forwarded to this connection (method routing).
    var onResponse: (Connection, JSON, Result<JSON, RPCError>) -> Void = { _, _, _ in }
    /// Publishes go straight to the relay, bypassing the generic request path.
    var relay: BusRelay!
    private var pendingFlush: [Connection] = []
    private var readBuffer = [UInt8](repeating: 0, count: 65536)
    /// Bus messages go into the socket buffer up to this much; beyond it they wait in the bounded queue.
    static let outboxHighWater = 256 << 10
    private(set) var connections: [Int32: Connection] = [:]
    private var listeners: [Int32] = []
    private var nextID = 0
    private var sweepTimer: EventLoop.TimerID?
    private(set) var tcpPort: UInt16?

    init(daemon: Daemon, ipc: DaemonConfig.IPC, socketPath: String) {
        self.daemon = daemon
        self.ipc = ipc
        self.socketPath = socketPath
    }

    func start() throws {
        let unixFD = try Socket.listenUnix(path: socketPath, mode: 0o600)
        listeners.append(unixFD)
        try daemon.loop.register(unixFD, .readable) { [unowned self] _ in self.acceptAll(unixFD, isTCP: false) }
        if ipc.tcpEnabled {
            let tcpFD = try Socket.listenTCP(host: "127.0.0.1", port: UInt16(ipc.tcpPort))
            listeners.append(tcpFD)
            tcpPort = Socket.localPort(tcpFD)
            try daemon.loop.register(tcpFD, .readable) { [unowned self] _ in self.acceptAll(tcpFD, isTCP: true) }
        }
        daemon.loop.onTurnEnd = { [unowned self] in self.flushPending() }
        scheduleSweep()
    }

    /// Closes listeners and clients and removes the socket file.
    func shutdown() {
        daemon.loop.cancel(sweepTimer)
        for fd in listeners {
            daemon.loop.unregister(fd)
            close(fd)
        }
        listeners = []
        for connection in Array(connections.values) {
            flush(connection)
            closeConnection(connection)
        }
        unlink(socketPath)
    }

    // MARK: Accepting

    private func acceptAll(_ listener: Int32, isTCP: Bool) {
        while let fd = Socket.accept(listener) {
            let peer = isTCP ? nil : Socket.peerCredentials(fd)
            if let peer, peer.uid != geteuid() && peer.uid != 0 {
                reject(fd, "peer uid \(peer.uid) is not allowed on this socket")
                continue
            }
            if connections.count >= ipc.maxConnections {
                reject(fd, "too many connections (max_connections \(ipc.maxConnections)); try again later")
                continue
            }
            nextID += 1
            daemon.metrics.connectionsAccepted += 1
            let connection = Connection(
                id: nextID, fd: fd, isTCP: isTCP, maxMessageBytes: ipc.maxMessageBytes,
                authenticated: ipc.authToken == nil, now: Clock.monotonic(),
                queue: BoundedQueue(capacity: ipc.subscriberQueue, byteLimit: ipc.subscriberQueueBytes))
            connection.peerPID = peer?.pid
            connections[fd] = connection
            do {
                try daemon.loop.register(fd, .readable) { [unowned self, unowned connection] events in self.handle(connection, events) }
            } catch {
                connections[fd] = nil
                close(fd)
            }
        }
    }

    private func reject(_ fd: Int32, _ why: String) {
        daemon.metrics.connectionsRejected += 1
        let line = RPCResponse.error(id: .null, .limit(why)).serializedBytes() + [0x0A]
        _ = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        close(fd)
    }

    // MARK: Reading

    private func handle(_ connection: Connection, _ events: EventLoop.Events) {
        if events.contains(.writable) { flush(connection) }
        guard connection.isOpen else { return }
        if events.contains(.readable) && !connection.readClosed {
            readAvailable(connection)
        } else if !events.isDisjoint(with: [.error, .hangup]) {
            closeConnection(connection)
        }
    }

    private func readAvailable(_ connection: Connection) {
        // A bounded number of reads per wake-up keeps one busy client from starving the rest.
        for _ in 0..<4 {
            let n = readBuffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                connection.lastActivity = Clock.monotonic()
                connection.framer.append(readBuffer[0..<n])
                processLines(connection)
                if !connection.isOpen || connection.readClosed { return }
                if n < readBuffer.count { return }
            } else if n == 0 {
                peerFinishedSending(connection)
                return
            } else {
                if errno == EAGAIN || errno == EINTR { return }
                closeConnection(connection)
                return
            }
        }
    }

    /// The peer half-closed: answer what it asked, then close.
    private func peerFinishedSending(_ connection: Connection) {
        connection.readClosed = true
        daemon.loop.modify(connection.fd, connection.outbox.isEmpty ? [] : .writable)
        settle(connection)
    }

    /// Closes a half-closed connection once nothing more is owed to it.
    private func settle(_ connection: Connection) {
        guard connection.isOpen, connection.readClosed, connection.pendingReplies == 0, connection.streams == 0 else { return }
        connection.closeAfterFlush = true
        if connection.outbox.isEmpty { closeConnection(connection) }
    }

    private func processLines(_ connection: Connection) {
        while connection.isOpen {
            let line: [UInt8]?
            do {
                line = try connection.framer.next()
            } catch {
                daemon.metrics.oversizedMessages += 1
                send(RPCResponse.error(id: .null, .invalidRequest("message larger than \(ipc.maxMessageBytes) bytes (ipc.max_message_bytes); closing the connection")), to: connection)
                connection.readClosed = true
                connection.closeAfterFlush = true
                daemon.loop.modify(connection.fd, .writable)
                return
            }
            guard let line else { return }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if !fastPublish(line, on: connection) { process(line, on: connection) }
        }
    }

    private func process(_ line: [UInt8], on connection: Connection) {
        switch RPCIncoming.parse(line) {
        case .invalid(let error):
            daemon.metrics.rpcErrors += 1
            send(RPCResponse.error(id: .null, error), to: connection)
        case .response(let id, let result):
            onResponse(connection, id, result)
        case .single(.failure(let failure)):
            daemon.metrics.rpcErrors += 1
            send(RPCResponse.error(id: failure.id, failure.error), to: connection)
        case .single(.success(let request)):
            dispatch(request, on: connection) { [unowned self] response in
                if let response { self.send(response, to: connection) }
            }
        case .batch(let entries):
            let batch = BatchReply(count: entries.count)
            connection.pendingReplies += 1
            for (index, entry) in entries.enumerated() {
                switch entry {
                case .failure(let failure):
                    daemon.metrics.rpcErrors += 1
                    batch.set(index, RPCResponse.error(id: failure.id, failure.error))
                case .success(let request):
                    dispatch(request, on: connection) { response in batch.set(index, response) }
                }
            }
            batch.whenComplete { [unowned self] responses in
                connection.pendingReplies -= 1
                if !responses.isEmpty { self.send(.array(responses), to: connection) }
                self.settle(connection)
            }
        }
    }

    /// Runs one request; `done` gets the response to send, or `nil` for a notification.
    private func dispatch(_ request: RPCRequest, on connection: Connection, done: @escaping (JSON?) -> Void) {
        daemon.metrics.rpcRequests += 1
        let finish: Reply = { [unowned self] result in
            connection.pendingReplies -= 1
            if case .failure = result { self.daemon.metrics.rpcErrors += 1 }
            switch (request.id, result) {
            case (nil, _): done(nil)
            case (let id?, .success(let value)): done(RPCResponse.result(id: id, value))
            case (let id?, .failure(let error)): done(RPCResponse.error(id: id, error))
            }
            self.settle(connection)
        }
        connection.pendingReplies += 1
        if !connection.authenticated && requiresAuth(request.method) {
            finish(.failure(.unauthorized("authentication required: call auth.login with the token first")))
        } else {
            handler(request, connection, finish)
        }
    }

    func login(_ request: RPCRequest, _ connection: Connection) -> Result<JSON, RPCError> {
        guard let expected = ipc.authToken else { return .success(["authenticated": true]) }
        guard let token = request.params?["token"]?.stringValue ?? request.params?.arrayValue?.first?.stringValue else {
            return .failure(.invalidParams("auth.login needs {\"token\": \"…\"}"))
        }
        guard ControlServer.constantTimeEqual(Array(token.utf8), Array(expected.utf8)) else {
            return .failure(.unauthorized("invalid token"))
        }
        connection.authenticated = true
        return .success(["authenticated": true])
    }

    /// Compares without an early exit, so timing does not reveal how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }

    // MARK: Publishing

    /// `bus.publish` without building a JSON tree: validate the line, read the topic, forward
    /// the `data` bytes as they came. Anything unusual falls back to the generic path.
    private func fastPublish(_ line: [UInt8], on connection: Connection) -> Bool {
        guard connection.authenticated, line.first == UInt8(ascii: "{"), JSONScanner.isValidUTF8(line) else { return false }
        var method: Range<Int>?, params: Range<Int>?, id: Range<Int>?, version: Range<Int>?, other = false
        let valid = JSONScanner.forEachMember(line) { key, value in
            if JSONScanner.equal(line, key, "method") { method = value }
            else if JSONScanner.equal(line, key, "params") { params = value }
            else if JSONScanner.equal(line, key, "id") { id = value }
            else if JSONScanner.equal(line, key, "jsonrpc") { version = value }
            else { other = true }
        }
        guard valid, !other, let method, JSONScanner.equal(line, method, "\"bus.publish\""), let version,
            JSONScanner.equal(line, version, "\"2.0\""), let params
        else { return false }
        if let id {
            let first = line[id.lowerBound]
            guard first == UInt8(ascii: "\"") || first == UInt8(ascii: "-") || first == UInt8(ascii: "n") || (first >= 0x30 && first <= 0x39) else { return false }
        }
        var topicRange: Range<Int>?, dataRange: Range<Int>?
        let validParams = JSONScanner.forEachMember(line, in: params) { key, value in
            if JSONScanner.equal(line, key, "topic") { topicRange = value }
            else if JSONScanner.equal(line, key, "data") { dataRange = value }
            else { other = true }
        }
        guard validParams, !other, let topicRange, let topic = JSONScanner.string(line, topicRange) else { return false }
        daemon.metrics.rpcRequests += 1
        do {
            try Topic.validate(topic)
        } catch {
            daemon.metrics.rpcErrors += 1
            if let id { enqueue(ControlServer.rawReply(line[id], error: .invalidParams("\(error)")), to: connection) }
            return true
        }
        let receivers = dataRange.map { relay.publish(topic: topic, bytes: line, range: $0, source: daemon.source(of: connection)) }
            ?? relay.publish(topic: topic, bytes: ControlServer.null, range: 0..<4, source: daemon.source(of: connection))
        if let id {
            var reply: [UInt8] = []
            reply.reserveCapacity(64 + id.count)
            appendStatic(#"{"jsonrpc":"2.0","id":"#, to: &reply)
            line.withUnsafeBufferPointer { reply.append(contentsOf: UnsafeBufferPointer(rebasing: $0[id])) }
            appendStatic(#","result":{"delivered":"#, to: &reply)
            appendDecimal(UInt64(receivers), to: &reply)
            appendStatic("}}\n", to: &reply)
            enqueue(reply, to: connection)
        }
        return true
    }

    static let null = Array("null".utf8)

    static func rawReply(_ id: ArraySlice<UInt8>, error: RPCError) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","id":"#.utf8) + id + Array(#","error":"#.utf8) + error.json.serializedBytes() + Array("}\n".utf8)
    }

    // MARK: Writing

    func send(_ message: JSON, to connection: Connection) {
        enqueue(message.serializedBytes() + [0x0A], to: connection)
    }

    /// Queues bytes for the client; they are written at the end of this loop turn.
    func enqueue(_ bytes: [UInt8], to connection: Connection) {
        guard connection.isOpen else { return }
        connection.outbox += bytes
        if connection.outbox.count > ControlServer.maxOutbox {
            daemon.logger.warning("client is not reading its replies; disconnecting", ["connection": JSON(connection.id)])
            closeConnection(connection)
            return
        }
        scheduleFlush(connection)
    }

    /// Hands a bus message to a subscriber: into its socket buffer while that keeps up, else
    /// into its bounded queue, where the oldest messages give way (counted, and reported to it).
    func deliver(_ message: [UInt8], to connection: Connection) {
        guard connection.isOpen else { return }
        if connection.busQueue.isEmpty && connection.outbox.count < ControlServer.outboxHighWater {
            connection.outbox += message
            scheduleFlush(connection)
            return
        }
        let dropped = connection.busQueue.push(message)
        if dropped > 0 {
            connection.droppedSinceReport += dropped
            connection.droppedTotal += dropped
            daemon.metrics.busDropped += dropped
        }
    }

    private func scheduleFlush(_ connection: Connection) {
        guard !connection.flushScheduled else { return }
        connection.flushScheduled = true
        pendingFlush.append(connection)
    }

    private func flushPending() {
        guard !pendingFlush.isEmpty else { return }
        let list = pendingFlush
        pendingFlush = []
        for connection in list {
            connection.flushScheduled = false
            flush(connection)
        }
    }

    private func flush(_ connection: Connection) {
        guard connection.isOpen else { return }
        while true {
            var written = 0
            var blocked = false
            while written < connection.outbox.count {
                let n = connection.outbox.withUnsafeBytes {
                    Glibc.send(connection.fd, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    written += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    blocked = true
                    break
                } else {
                    closeConnection(connection)
                    return
                }
            }
            if written == connection.outbox.count {
                connection.outbox.removeAll(keepingCapacity: connection.outbox.capacity <= ControlServer.outboxHighWater * 2)
            } else {
                connection.outbox.removeFirst(written)
            }
            guard !blocked, refillFromQueue(connection) else { break }
        }
        if connection.outbox.isEmpty {
            if connection.closeAfterFlush {
                closeConnection(connection)
            } else {
                daemon.loop.modify(connection.fd, connection.readClosed ? [] : .readable)
            }
        } else {
            daemon.loop.modify(connection.fd, connection.readClosed ? .writable : [.readable, .writable])
        }
    }

    /// Moves queued bus messages into the drained socket buffer, led by a `bus.dropped` notice
    /// if messages were lost since the last one. Returns false when there was nothing to move.
    private func refillFromQueue(_ connection: Connection) -> Bool {
        guard !connection.busQueue.isEmpty || connection.droppedSinceReport > 0 else { return false }
        if connection.droppedSinceReport > 0 {
            connection.outbox += RPCResponse.notification("bus.dropped", [
                "dropped": JSON(connection.droppedSinceReport), "total": JSON(connection.droppedTotal),
            ]).serializedBytes() + [0x0A]
            connection.droppedSinceReport = 0
        }
        while connection.outbox.count < ControlServer.outboxHighWater, let message = connection.busQueue.pop() {
            connection.outbox += message
        }
        return true
    }

    func closeConnection(_ connection: Connection) {
        guard connection.isOpen else { return }
        connection.isOpen = false
        daemon.loop.unregister(connection.fd)
        close(connection.fd)
        connections[connection.fd] = nil
        onClose(connection)
    }

    /// A stream ended (e.g. a follower removed): a half-closed client may now be closed.
    func streamEnded(_ connection: Connection) {
        connection.streams -= 1
        settle(connection)
    }

    // MARK: Idle clients

    private func scheduleSweep() {
        sweepTimer = daemon.loop.schedule(after: max(0.05, min(ipc.idleTimeout / 4, 30))) { [unowned self] in
            let now = Clock.monotonic()
            for connection in Array(self.connections.values)
            where connection.streams == 0 && connection.pendingReplies == 0 && now - connection.lastActivity > self.ipc.idleTimeout {
                self.closeConnection(connection)
            }
            self.scheduleSweep()
        }
    }
}

/// Collects the responses of one batch, in request order, and sends them together.
final class BatchReply {
    private var responses: [JSON?]
    private var remaining: Int
    private var completion: (([JSON]) -> Void)?

    init(count: Int) {
        responses = Array(repeating: nil, count: count)
        remaining = count
    }

    func set(_ index: Int, _ response: JSON?) {
        responses[index] = response
        remaining -= 1
        fireIfDone()
    }

    func whenComplete(_ body: @escaping ([JSON]) -> Void) {
        completion = body
        fireIfDone()
    }

    private func fireIfDone() {
        guard remaining == 0, let completion else { return }
        self.completion = nil
        completion(responses.compactMap { $0 })
    }
}
