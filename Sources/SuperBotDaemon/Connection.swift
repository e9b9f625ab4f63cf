import Bus
import Glibc
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
    /// Its work for this loop turn is used up: input waits (and is not read) until the next turn.
    var readPaused = false
    var closeAfterFlush = false
    var isOpen = true
    /// Waiting in the server's list of connections to flush at the end of this loop turn.
    var flushScheduled = false
    /// Bus messages beyond what the socket took, bounded; the oldest are dropped when full.
    var busQueue: BoundedQueue
    var droppedSinceReport = 0
    var droppedTotal = 0
    /// The peer's pid (Unix socket), to name the module a publish comes from.
    var peerPID: pid_t?
    var source: String?

    init(id: Int, fd: Int32, isTCP: Bool, maxMessageBytes: Int, authenticated: Bool, now: Double, queue: BoundedQueue) {
        self.busQueue = queue
        self.id = id
        self.fd = fd
        self.isTCP = isTCP
        self.framer = LineFramer(maxBytes: maxMessageBytes)
        self.authenticated = authenticated
        self.lastActivity = now
    }
}
