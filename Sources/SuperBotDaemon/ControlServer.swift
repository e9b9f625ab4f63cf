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

    unowned let daemon: Daemon
    let ipc: DaemonConfig.IPC
    let socketPath: String
    var handler: Handler = { _, _, reply in reply(.failure(.internalError("no handler"))) }
    var onClose: (Connection) -> Void = { _ in }
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
            if !isTCP, let peer = Socket.peerCredentials(fd), peer.uid != geteuid() && peer.uid != 0 {
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
                authenticated: ipc.authToken == nil, now: Clock.monotonic())
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
        var buffer = [UInt8](repeating: 0, count: 65536)
        // A bounded number of reads per wake-up keeps one busy client from starving the rest.
        for _ in 0..<4 {
            let n = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                connection.lastActivity = Clock.monotonic()
                connection.framer.append(buffer[0..<n])
                processLines(connection)
                if !connection.isOpen || connection.readClosed { return }
                if n < buffer.count { return }
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
            process(line, on: connection)
        }
    }

    private func process(_ line: [UInt8], on connection: Connection) {
        switch RPCIncoming.parse(line) {
        case .invalid(let error):
            daemon.metrics.rpcErrors += 1
            send(RPCResponse.error(id: .null, error), to: connection)
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
        if request.method == "auth.login" {
            finish(login(request, connection))
        } else if !connection.authenticated {
            finish(.failure(.unauthorized("authentication required: call auth.login with the token first")))
        } else {
            handler(request, connection, finish)
        }
    }

    private func login(_ request: RPCRequest, _ connection: Connection) -> Result<JSON, RPCError> {
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

    // MARK: Writing

    func send(_ message: JSON, to connection: Connection) {
        guard connection.isOpen else { return }
        connection.outbox += message.serializedBytes()
        connection.outbox.append(0x0A)
        if connection.outbox.count > ControlServer.maxOutbox {
            daemon.logger.warning("client is not reading its replies; disconnecting", ["connection": JSON(connection.id)])
            closeConnection(connection)
            return
        }
        flush(connection)
    }

    private func flush(_ connection: Connection) {
        guard connection.isOpen else { return }
        var written = 0
        while written < connection.outbox.count {
            let n = connection.outbox.withUnsafeBytes {
                Glibc.send(connection.fd, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                closeConnection(connection)
                return
            }
        }
        connection.outbox.removeFirst(written)
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
