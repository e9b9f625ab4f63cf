import SystemKit

/// How a handler answers one request: once with `respond`, or as a stream (`startStream`, then
/// `write` as often as needed, then `finish`). It may answer at once or later, but always on the
/// server's loop thread; code on another thread goes through `bound` (see `LoopBound`).
/// Answers on one connection go out in request order, so an unanswered request holds back the
/// ones pipelined after it.
public final class HTTPResponseWriter {
    enum State { case waiting, streaming, done }

    private weak var server: HTTPServer?
    private weak var connection: HTTPConnection?
    let keepAlive: Bool
    let headOnly: Bool
    let chunked: Bool
    private(set) var state = State.waiting
    /// Called once if the client goes away (or is dropped for not reading) before the answer ended:
    /// where a stream unsubscribes.
    public var onClose: (() -> Void)?

    init(server: HTTPServer, connection: HTTPConnection, request: HTTPRequest) {
        self.server = server
        self.connection = connection
        keepAlive = request.keepAlive
        headOnly = request.method == "HEAD"
        chunked = request.minorVersion >= 1
    }

    /// Whether the client can still receive this answer.
    public var isOpen: Bool { state != .done && connection?.isOpen == true }

    /// This writer, for code on other threads.
    public var bound: LoopBound<HTTPResponseWriter>? {
        server.map { LoopBound(self, executor: $0.executor) }
    }

    public func respond(_ response: HTTPResponse) {
        guard state == .waiting else { return }
        state = .done
        server?.complete(self, on: connection, with: response)
    }

    /// Closes the connection without an answer (how the simulator plays a vanished server).
    public func drop() {
        guard state != .done else { return }
        state = .done
        server?.abort(connection)
    }

    /// Sends the head of a streamed answer; the body follows with `write` (chunked for HTTP/1.1).
    public func startStream(_ head: HTTPResponse) {
        guard state == .waiting else { return }
        state = .streaming
        server?.startStream(self, on: connection, head: head)
    }

    /// Queues part of a streamed body. `false` when the client is gone, or when its unread output
    /// passed the server's bound (a reader that stopped reading is disconnected, never buffered
    /// without end).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard state == .streaming, !bytes.isEmpty, let server, let connection else { return false }
        return server.writeStream(bytes, chunked: chunked && !headOnly, on: connection)
    }

    /// Ends a streamed body; the connection goes on with the next pipelined request.
    public func finish() {
        guard state == .streaming else { return }
        state = .done
        server?.finishStream(self, on: connection)
    }

    func closed() {
        guard state != .done else { return }
        state = .done
        let callback = onClose
        onClose = nil
        callback?()
    }
}

extension HTTPResponseWriter {
    /// Starts a Server-Sent Events stream (`text/event-stream`, not cached, not buffered by proxies).
    public func startEventStream(headers: HTTPHeaders = HTTPHeaders()) {
        var all = headers
        all.set("Content-Type", "text/event-stream")
        all.set("Cache-Control", "no-cache")
        all.set("X-Accel-Buffering", "no")
        startStream(HTTPResponse(status: 200, headers: all))
    }

    @discardableResult
    public func send(_ event: ServerSentEvent) -> Bool { write(event.encoded()) }
}
