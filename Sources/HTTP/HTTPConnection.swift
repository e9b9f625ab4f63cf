import SystemKit

/// One client connection's state, owned by `HTTPServer` on its loop thread.
final class HTTPConnection {
    let fd: Int32
    var parser: HTTPParser
    var output: [UInt8] = []
    var outputOffset = 0
    /// The answer being written; later pipelined requests wait for it.
    var current: HTTPResponseWriter?
    /// Set while `HTTPServer.process` runs, so an answer given synchronously returns to the
    /// loop there instead of recursing into the next request.
    var processing = false
    var closeWhenFlushed = false
    var peerClosed = false
    var isOpen = true
    /// Interest in readability is dropped while the client leaves too much output unread.
    var readPaused = false
    var writable = false
    /// Stream output waits for the end of the loop turn (one `send` for all events of a turn).
    var flushQueued = false
    /// What epoll watches for this connection now (registered as readable + hang-up).
    var interest: EventLoop.Events = [.readable, .hangup]
    /// When the connection last had nothing to do (the idle timeout counts from here).
    var idleSince: Double
    /// When the first byte of an incomplete request arrived (the request deadline counts from here).
    var partialSince: Double?
    /// When output last made progress; a client that stops reading is dropped after the idle timeout.
    var lastWrite: Double

    init(fd: Int32, parser: HTTPParser, now: Double) {
        self.fd = fd
        self.parser = parser
        idleSince = now
        lastWrite = now
    }

    var pendingOutput: Int { output.count - outputOffset }

    /// Whether the connection may be closed to make room: nobody is waiting on an answer for it.
    var isQuiet: Bool { current == nil && pendingOutput == 0 }
}
