import Bus
import Glibc
import JSON
import RPC
import SuperBotConfig
import SuperBotLog
import SystemKit

/// The JSON-RPC 2.0 control socket: newline-delimited messages on a Unix socket (and, with a token,
/// loopback TCP). Non-blocking on the daemon's loop; one slow or hostile client costs only its own
/// buffers, never a stall for the others.
final class ControlServer {
    typealias Reply = (Result<JSON, RPCError>) -> Void

    /// A client that will not read its replies is cut off past this much queued output.
    static let maxOutbox = 32 << 20

    /// What the server serves and whom it tells; the daemon, for the life of the process.
    unowned let context: any ControlServerContext
    let loop: EventLoop
    let logger: Logger
    let ipc: DaemonConfig.IPC
    let socketPath: String
    /// Publishes go straight to the relay, bypassing the generic request path.
    var relay: BusRelay!
    var counters = Counters()

    /// What `monitoring.metrics` reports of the socket.
    struct Counters {
        var rpcRequests = 0
        var rpcErrors = 0
        var connectionsAccepted = 0
        var connectionsRejected = 0
        var oversizedMessages = 0
        var busDropped = 0
        var connectionsCut = 0

        var json: [String: JSON] {
            [
                "rpc.requests": JSON(rpcRequests), "rpc.errors": JSON(rpcErrors),
                "rpc.connections_accepted": JSON(connectionsAccepted),
                "rpc.connections_rejected": JSON(connectionsRejected),
                "rpc.oversized_messages": JSON(oversizedMessages), "bus.dropped": JSON(busDropped),
                "rpc.connections_cut": JSON(connectionsCut),
            ]
        }
    }
    var pendingFlush: [Connection] = []
    /// The last valid topic the fast path decoded, with its raw text: publishers repeat topics,
    /// so most publishes skip decoding and validating theirs.
    var lastTopic: (bytes: [UInt8], topic: String)?
    private var readBuffer = [UInt8](repeating: 0, count: 65536)
    /// Bus messages go into the socket buffer up to this much; beyond it they wait in the bounded queue.
    static let outboxHighWater = 256 << 10
    /// Set when a client's output went past its socket: the turn's end checks the global bound.
    var queueBoundCheckDue = false
    private(set) var connections: [Int32: Connection] = [:]
    private var listeners: [Int32] = []
    private var nextID = 0
    private var sweepTimer: EventLoop.TimerID?
    private(set) var tcpPort: UInt16?

    init(context: any ControlServerContext, loop: EventLoop, logger: Logger, ipc: DaemonConfig.IPC, socketPath: String)
    {
        self.context = context
        self.loop = loop
        self.logger = logger
        self.ipc = ipc
        self.socketPath = socketPath
    }

    func start() throws {
        let unixFD = try Socket.listenUnix(path: socketPath, mode: 0o600)
        listeners.append(unixFD)
        try loop.register(unixFD, .readable) { [unowned self] _ in self.acceptAll(unixFD, isTCP: false) }
        if ipc.tcpEnabled {
            let tcpFD = try Socket.listenTCP(host: "127.0.0.1", port: UInt16(ipc.tcpPort))
            listeners.append(tcpFD)
            tcpPort = Socket.localPort(tcpFD)
            try loop.register(tcpFD, .readable) { [unowned self] _ in self.acceptAll(tcpFD, isTCP: true) }
        }
        loop.onTurnEnd = { [unowned self] in self.flushPending() }
        scheduleSweep()
    }

    /// Closes listeners and clients and removes the socket file.
    func shutdown() {
        loop.cancel(sweepTimer)
        for fd in listeners {
            loop.unregister(fd)
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
            counters.connectionsAccepted += 1
            let connection = Connection(
                id: nextID, fd: fd, isTCP: isTCP, maxMessageBytes: ipc.maxMessageBytes,
                authenticated: ipc.authToken == nil, now: Clock.monotonic(),
                queue: BoundedQueue(capacity: ipc.subscriberQueue, byteLimit: ipc.subscriberQueueBytes))
            connection.peerPID = peer?.pid
            connections[fd] = connection
            do {
                try loop.register(fd, .readable) { [unowned self, unowned connection] events in
                    self.handle(connection, events)
                }
            } catch {
                connections[fd] = nil
                close(fd)
            }
        }
    }

    private func reject(_ fd: Int32, _ why: String) {
        counters.connectionsRejected += 1
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
                if !connection.isOpen || connection.readClosed || connection.readPaused { return }
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
        updateInterest(connection)
        settle(connection)
    }

    /// Closes a half-closed connection once nothing more is owed to it.
    private func settle(_ connection: Connection) {
        guard connection.isOpen, connection.readClosed, connection.pendingReplies == 0, connection.streams == 0 else {
            return
        }
        connection.closeAfterFlush = true
        if connection.outbox.isEmpty { closeConnection(connection) }
    }

    /// How long one connection's requests may run in one loop turn before the others get theirs:
    /// a batch of ten thousand is answered across turns, so nobody else waits behind it.
    static let turnBudget = 0.002

    private func processLines(_ connection: Connection) {
        let deadline = Clock.monotonic() + ControlServer.turnBudget
        // A fast-path publish takes about a microsecond: after those the clock is read every 16th line.
        var fastLines = 0
        while connection.isOpen && !connection.readPaused {
            if fastLines & 15 == 0 && Clock.monotonic() >= deadline {
                return pause(connection) { [unowned self] in self.processLines(connection) }
            }
            let line: [UInt8]?
            do {
                line = try connection.framer.next()
            } catch {
                counters.oversizedMessages += 1
                send(
                    RPCResponse.error(
                        id: .null,
                        .invalidRequest(
                            "message larger than \(ipc.maxMessageBytes) bytes (ipc.max_message_bytes); closing the connection"
                        )), to: connection)
                connection.readClosed = true
                connection.closeAfterFlush = true
                loop.modify(connection.fd, .writable)
                return
            }
            guard let line else { return }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if fastPublish(line, on: connection) {
                fastLines &+= 1
            } else {
                fastLines = 0
                process(line, on: connection, deadline: deadline)
            }
        }
    }

    /// Stops taking this connection's input for the rest of the turn and goes on with `resume`
    /// in the next one, after every other connection has had its events.
    private func pause(_ connection: Connection, then resume: @escaping () -> Void) {
        connection.readPaused = true
        updateInterest(connection)
        loop.schedule(after: 0) { [unowned self] in
            guard connection.isOpen else { return }
            connection.readPaused = false
            updateInterest(connection)
            resume()
        }
    }

    private func process(_ line: [UInt8], on connection: Connection, deadline: Double) {
        switch RPCIncoming.parse(line) {
        case .invalid(let error):
            counters.rpcErrors += 1
            send(RPCResponse.error(id: .null, error), to: connection)
        case .response(let id, let result):
            context.routeResponse(connection, id, result)
        case .single(.failure(let failure)):
            counters.rpcErrors += 1
            send(RPCResponse.error(id: failure.id, failure.error), to: connection)
        case .single(.success(let request)):
            dispatch(request, on: connection) { [unowned self] response in
                if let response { self.send(response, to: connection) }
            }
        case .batch(let entries):
            let batch = BatchReply(count: entries.count)
            connection.pendingReplies += 1
            batch.whenComplete { [unowned self] responses in
                connection.pendingReplies -= 1
                if !responses.isEmpty { self.send(.array(responses), to: connection) }
                self.settle(connection)
            }
            dispatchBatch(entries, from: 0, into: batch, on: connection, deadline: deadline)
        }
    }

    /// Dispatches a batch's entries until the turn's budget is spent, then goes on next turn.
    private func dispatchBatch(
        _ entries: [Result<RPCRequest, RPCFailure>], from start: Int, into batch: BatchReply,
        on connection: Connection, deadline: Double
    ) {
        var index = start
        while index < entries.count {
            if Clock.monotonic() >= deadline {
                let next = index
                return pause(connection) { [unowned self] in
                    self.dispatchBatch(
                        entries, from: next, into: batch, on: connection,
                        deadline: Clock.monotonic() + ControlServer.turnBudget)
                    if !connection.readPaused { self.processLines(connection) }
                }
            }
            let i = index
            switch entries[i] {
            case .failure(let failure):
                counters.rpcErrors += 1
                batch.set(i, RPCResponse.error(id: failure.id, failure.error))
            case .success(let request):
                dispatch(request, on: connection) { response in batch.set(i, response) }
            }
            index += 1
        }
    }

    /// Runs one request; `done` gets the response to send, or `nil` for a notification.
    private func dispatch(_ request: RPCRequest, on connection: Connection, done: @escaping (JSON?) -> Void) {
        counters.rpcRequests += 1
        let finish: Reply = { [unowned self] result in
            connection.pendingReplies -= 1
            if case .failure = result { self.counters.rpcErrors += 1 }
            switch (request.id, result) {
            case (nil, _): done(nil)
            case (let id?, .success(let value)): done(RPCResponse.result(id: id, value))
            case (let id?, .failure(let error)): done(RPCResponse.error(id: id, error))
            }
            self.settle(connection)
        }
        connection.pendingReplies += 1
        if !connection.authenticated && context.requiresAuth(request.method) {
            finish(.failure(.unauthorized("authentication required: call auth.login with the token first")))
        } else {
            context.handle(request, connection, finish)
        }
    }

    func login(_ request: RPCRequest, _ connection: Connection) -> Result<JSON, RPCError> {
        guard let expected = ipc.authToken else { return .success(["authenticated": true]) }
        guard let token = request.params?["token"]?.stringValue ?? request.params?.arrayValue?.first?.stringValue else {
            return .failure(.invalidParams("auth.login needs {\"token\": \"…\"}"))
        }
        guard ConstantTime.equal(Array(token.utf8), Array(expected.utf8)) else {
            return .failure(.unauthorized("invalid token"))
        }
        connection.authenticated = true
        return .success(["authenticated": true])
    }

    func closeConnection(_ connection: Connection) {
        guard connection.isOpen else { return }
        connection.isOpen = false
        loop.unregister(connection.fd)
        close(connection.fd)
        connections[connection.fd] = nil
        context.connectionClosed(connection)
    }

    /// A stream ended (e.g. a follower removed): a half-closed client may now be closed.
    func streamEnded(_ connection: Connection) {
        connection.streams -= 1
        settle(connection)
    }

    // MARK: Idle clients

    private func scheduleSweep() {
        sweepTimer = loop.schedule(after: max(0.05, min(ipc.idleTimeout / 4, 30))) { [unowned self] in
            let now = Clock.monotonic()
            for connection in Array(self.connections.values)
            where connection.streams == 0 && connection.pendingReplies == 0
                && now - connection.lastActivity > self.ipc.idleTimeout
            {
                self.closeConnection(connection)
            }
            self.scheduleSweep()
        }
    }
}
