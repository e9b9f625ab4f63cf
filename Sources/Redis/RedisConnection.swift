import Glibc
import SystemKit

/// One blocking connection to Redis: commands, pipelines, and (on a connection of its own)
/// pub/sub. Connect runs HELLO (RESP3 when the server has it, else RESP2), AUTH and SELECT.
/// Not thread-safe: one owner at a time.
public final class RedisConnection {
    public let url: RedisURL
    public let fd: Int32
    public private(set) var protocolVersion = 2
    private var parser = RESPParser()
    private var readBuffer = [UInt8](repeating: 0, count: 64 << 10)

    public init(_ url: RedisURL, timeout: Double = 5) throws(RedisError) {
        self.url = url
        do {
            switch url.endpoint {
            case .tcp(let host, let port): fd = try RedisConnection.connectTCP(host, port, timeout: timeout)
            case .unix(let path): fd = try Socket.connectUnix(path: path)
            }
        } catch let error as RedisError {
            throw error
        } catch {
            throw .connection("\(url): \(error)")
        }
        Socket.setReceiveTimeout(fd, seconds: timeout)
        var on: Int32 = 1
        if case .tcp = url.endpoint { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, 4) }
        do {
            try handshake()
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// A TCP connect that gives up after `timeout` (a host that never answers would otherwise
    /// hold the caller for the kernel's minutes), then blocking again for the commands.
    static func connectTCP(_ host: String, _ port: UInt16, timeout: Double) throws -> Int32 {
        let fd = try Socket.connectTCP(host: host, port: port, nonBlocking: true)
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var ready: Int32
        repeat { ready = poll(&p, 1, Int32(max(1, timeout * 1000))) } while ready < 0 && errno == EINTR
        let error = ready > 0 ? Socket.pendingError(fd) : 0
        guard ready > 0, error == 0 else {
            close(fd)
            throw RedisError.connection(
                ready == 0
                    ? "\(host):\(port): no answer within \(timeout) s"
                    : "\(host):\(port): \(String(cString: strerror(error)))")
        }
        Socket.setNonBlocking(fd, false)
        return fd
    }

    private func handshake() throws(RedisError) {
        var hello = ["HELLO", "3"]
        if let password = url.password { hello += ["AUTH", url.user ?? "default", password] }
        let reply = try call(hello)
        if let error = reply.errorMessage {
            // A server before 6 has no HELLO: RESP2, and AUTH on its own.
            guard error.hasPrefix("ERR unknown command") || error.hasPrefix("NOPROTO") else {
                throw .server(error)
            }
            if let password = url.password {
                let auth = try call(url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password])
                if let e = auth.errorMessage { throw .server(e) }
            }
        } else {
            protocolVersion = 3
        }
        if url.database != 0 {
            let selected = try call(["SELECT", String(url.database)])
            if let e = selected.errorMessage { throw .server(e) }
        }
    }

    /// Sends one command and returns its reply (a server error is a reply, not a throw).
    public func call(_ arguments: [String]) throws(RedisError) -> RESPValue {
        try pipeline([arguments.map { Array($0.utf8) }])[0]
    }

    public func call(bytes arguments: [[UInt8]]) throws(RedisError) -> RESPValue { try pipeline([arguments])[0] }

    /// Sends all commands in one write and reads their replies, in order.
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RESPValue] {
        try pipeline(commands.map { $0.map { Array($0.utf8) } })
    }

    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RESPValue] {
        var out: [UInt8] = []
        for c in commands { out += RESPValue.command(c) }
        return try pipeline(encoded: out, count: commands.count)
    }

    /// `count` commands already in RESP (one write), and their replies.
    public func pipeline(encoded: [UInt8], count: Int) throws(RedisError) -> [RESPValue] {
        try send(encoded)
        var replies: [RESPValue] = []
        replies.reserveCapacity(count)
        while replies.count < count {
            let reply = try read()
            // RESP3 pushes (invalidations, pub/sub) are not replies to commands.
            if case .push = reply { continue }
            replies.append(reply)
        }
        return replies
    }

    public func send(_ bytes: [UInt8]) throws(RedisError) {
        do { try Socket.sendAll(fd, bytes) } catch { throw .connection("write: \(error)") }
    }

    /// The next reply or push from the server, waiting up to the receive timeout.
    public func read() throws(RedisError) -> RESPValue {
        while true {
            do {
                if let value = try parser.next() { return value }
            } catch {
                throw .protocolError(error.description)
            }
            let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                parser.append(readBuffer[0..<n])
            } else if n == 0 {
                throw .connection("the server closed the connection")
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw .timeout
            } else if errno != EINTR {
                throw .connection("read: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Waits at most `seconds` for the next message (pub/sub); nil when none came.
    public func read(within seconds: Double) throws(RedisError) -> RESPValue? {
        do {
            if let value = try parser.next() { return value }
        } catch {
            throw .protocolError(error.description)
        }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, Int32(max(0, seconds * 1000)))
        if ready == 0 { return nil }
        return try read()
    }
}
