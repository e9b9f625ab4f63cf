import Glibc
import JSON
import SystemKit

/// A blocking JSON-RPC client over the daemon's Unix socket, for the CLI and tests.
public final class RPCClient {
    public enum ClientError: Error, CustomStringConvertible {
        /// The socket is missing or refuses connections: the daemon is not running.
        case notRunning(String)
        case closed
        case timeout
        case badReply(String)

        public var description: String {
            switch self {
            case .notRunning(let why): return "the daemon is not running (\(why))"
            case .closed: return "the daemon closed the connection"
            case .timeout: return "timed out waiting for the daemon"
            case .badReply(let why): return "unreadable reply from the daemon: \(why)"
            }
        }
    }

    public let fd: Int32
    private var framer = LineFramer(maxBytes: 64 << 20)
    private var nextID = 0

    public init(socketPath: String, timeout: Double = 30) throws {
        do {
            fd = try Socket.connectUnix(path: socketPath)
        } catch let e as SystemError where e.errno == ENOENT || e.errno == ECONNREFUSED {
            throw ClientError.notRunning("\(socketPath): \(e.message)")
        }
        Socket.setReceiveTimeout(fd, seconds: timeout)
    }

    deinit { close(fd) }

    /// Sends one message; a daemon that went away is an error, never a SIGPIPE.
    public func send(_ message: JSON) throws {
        do {
            try Socket.sendAll(fd, message.serializedBytes() + [0x0A])
        } catch let error as SystemError where error.errno == EPIPE || error.errno == ECONNRESET {
            // A daemon that refused the connection said why before closing it.
            if let line = try? readLine(), let reply = try? JSON.parse(line), let refusal = Self.error(in: reply) {
                throw refusal
            }
            throw ClientError.closed
        }
    }

    static func error(in message: JSON) -> RPCError? {
        guard let error = message["error"] else { return nil }
        return RPCError(
            code: error["code"]?.intValue ?? -32603, message: error["message"]?.stringValue ?? "unknown error",
            data: error["data"])
    }

    /// Calls `method` and returns its result, throwing the daemon's `RPCError` on failure.
    /// Notifications that arrive first are handed to `onNotification`.
    public func call(_ method: String, _ params: JSON? = nil, onNotification: ((JSON) -> Void)? = nil) throws -> JSON {
        nextID += 1
        let id = JSON(nextID)
        try send(RPCRequest(id: id, method: method, params: params).json)
        while true {
            let message = try readMessage()
            if message["id"] == id {
                if let error = Self.error(in: message) { throw error }
                return message["result"] ?? .null
            }
            // An error for no request: the daemon refusing this connection (limit, uid), with the reason.
            if message["id"] == .null, let error = Self.error(in: message) { throw error }
            if message["method"] != nil { onNotification?(message) }
        }
    }

    /// Reads the next message (a reply or a server-pushed notification).
    public func readMessage() throws -> JSON {
        guard let line = try readLine() else { throw ClientError.closed }
        do {
            return try JSON.parse(line)
        } catch {
            throw ClientError.badReply("\(error)")
        }
    }

    /// The next raw line, or `nil` at end of stream.
    public func readLine() throws -> [UInt8]? {
        while true {
            if let line = try framer.next() { return line }
            // Uninitialized: a short reply touches only the pages it fills.
            var n = 0
            var error: Int32 = 0
            let chunk = [UInt8](unsafeUninitializedCapacity: 65536) { buffer, count in
                n = recv(fd, buffer.baseAddress, buffer.count, 0)
                error = n < 0 ? errno : 0
                count = max(n, 0)
            }
            if n == 0 { return nil }
            if n < 0 {
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK { throw ClientError.timeout }
                if error == ECONNRESET { return nil }
                throw SystemError("recv", errno: error)
            }
            framer.append(chunk[...])
        }
    }
}
