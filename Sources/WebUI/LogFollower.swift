import Dispatch
import Glibc
import HTTP
import JSON
import RPC
import Synchronization
import SystemKit

/// `/api/v1/logs/{name}/stream`: `logs.stream {follow: true}` on a daemon connection of its own
/// (a blocking reader on its own thread), each line sent to the browser as an SSE event, until the
/// browser goes away (which shuts the connection down) or the daemon does (which ends the stream).
public final class LogFollower: Sendable {
    /// The daemon connection while it is open, -1 once the reader is done with it.
    private let fd = Mutex<Int32>(-1)
    private let stopped = Mutex(false)

    /// Makes the reader return: called from the loop when the browser closed the stream.
    public func stop() {
        stopped.withLock { $0 = true }
        fd.withLock { if $0 >= 0 { _ = shutdown($0, Int32(SHUT_RDWR)) } }
    }

    public static func start(
        socketPath: String, token: String?, params: JSON, writer: LoopBound<HTTPResponseWriter>,
        onEnd: @escaping @Sendable () -> Void
    ) -> LogFollower {
        let follower = LogFollower()
        DispatchQueue(label: "superbot.webui.logs").async {
            follower.follow(socketPath: socketPath, token: token, params: params, writer: writer)
            onEnd()
        }
        return follower
    }

    private func follow(socketPath: String, token: String?, params: JSON, writer: LoopBound<HTTPResponseWriter>) {
        func send(_ event: ServerSentEvent) { writer.execute { $0.send(event) } }
        do {
            let client = try RPCClient(socketPath: socketPath, timeout: 86_400)
            fd.withLock { $0 = client.fd }
            defer { fd.withLock { $0 = -1 } }
            if stopped.withLock({ $0 }) { return }
            if let token { _ = try client.call("auth.login", ["token": .string(token)]) }
            let first = try client.call("logs.stream", params)
            for line in first["lines"]?.arrayValue ?? [] { send(ServerSentEvent(data: line.stringValue ?? "")) }
            while !stopped.withLock({ $0 }) {
                let message = try client.readMessage()
                guard message["method"]?.stringValue == "logs.line",
                    let line = message["params"]?["line"]?.stringValue
                else { continue }
                send(ServerSentEvent(data: line))
            }
        } catch {
            if !stopped.withLock({ $0 }) {
                let detail: JSON = ["detail": .string("\(error)")]
                send(ServerSentEvent(event: "error", data: detail.serialized()))
            }
        }
        writer.execute { $0.finish() }
    }
}
