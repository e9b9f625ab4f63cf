import RPC

/// One client of the control socket.
final class Connection {
    let id: Int
    let fd: Int32
    let isTCP: Bool
    var framer: LineFramer
    var outbox: [UInt8] = []
    var authenticated: Bool
    var lastActivity: Double
    /// Server-push streams (`logs.stream` with follow) keep a quiet connection alive.
    var streams = 0
    /// Requests whose reply is still to come (e.g. `module.stop` waiting for the process to exit).
    var pendingReplies = 0
    var readClosed = false
    var closeAfterFlush = false
    var isOpen = true

    init(id: Int, fd: Int32, isTCP: Bool, maxMessageBytes: Int, authenticated: Bool, now: Double) {
        self.id = id
        self.fd = fd
        self.isTCP = isTCP
        self.framer = LineFramer(maxBytes: maxMessageBytes)
        self.authenticated = authenticated
        self.lastActivity = now
    }
}
