import CShim
import Glibc

/// Socket helpers: non-blocking listeners for the event loop, blocking connects for clients.
public enum Socket {
    public static func setNonBlocking(_ fd: Int32, _ on: Bool = true) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)
    }

    static func streamSocket(_ family: Int32, nonBlocking: Bool) throws -> Int32 {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = socket(family, type, 0)
        if fd < 0 { throw SystemError("socket") }
        return fd
    }

    static func withUnixAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) throws -> T {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError(
                "bind", errno: ENAMETOOLONG,
                detail: "\(path): socket paths are limited to 107 bytes; use a shorter ipc.socket_path")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    static func withIPv4Address<T>(_ host: String, _ port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T)
        throws -> T
    {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            throw SystemError("inet_pton", errno: EINVAL, detail: "\(host) is not an IPv4 address")
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// A listening Unix socket at `path` with file mode `mode` (any stale socket file is replaced).
    public static func listenUnix(path: String, mode: mode_t, backlog: Int32 = 512) throws -> Int32 {
        let fd = try streamSocket(AF_UNIX, nonBlocking: true)
        do {
            unlink(path)
            let oldMask = umask(0o177)
            let rc = try withUnixAddress(path) { bind(fd, $0, $1) }
            umask(oldMask)
            if rc != 0 { throw SystemError("bind", detail: path) }
            chmod(path, mode)
            if listen(fd, backlog) != 0 { throw SystemError("listen", detail: path) }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    public static func listenTCP(host: String, port: UInt16, backlog: Int32 = 512) throws -> Int32 {
        let fd = try streamSocket(AF_INET, nonBlocking: true)
        do {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let rc = try withIPv4Address(host, port) { bind(fd, $0, $1) }
            if rc != 0 { throw SystemError("bind", detail: "\(host):\(port)") }
            if listen(fd, backlog) != 0 { throw SystemError("listen", detail: "\(host):\(port)") }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// The port a listener actually bound (for port 0).
    public static func localPort(_ fd: Int32) -> UInt16 {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// Accepts one connection as a non-blocking, close-on-exec descriptor; `nil` when none is pending.
    public static func accept(_ listener: Int32) -> Int32? {
        let fd = sb_accept_nonblocking(listener)
        return fd >= 0 ? fd : nil
    }

    public static func connectUnix(path: String) throws -> Int32 {
        let fd = try streamSocket(AF_UNIX, nonBlocking: false)
        let rc = try withUnixAddress(path) { connect(fd, $0, $1) }
        if rc != 0 {
            let error = SystemError("connect", detail: path)
            close(fd)
            throw error
        }
        return fd
    }

    /// Connects over TCP. Non-blocking, the connect may still be in progress: completion is
    /// signalled by writability (then check `pendingError`).
    public static func connectTCP(host: String, port: UInt16, nonBlocking: Bool = false) throws -> Int32 {
        let fd = try streamSocket(AF_INET, nonBlocking: nonBlocking)
        let rc = try withIPv4Address(host, port) { connect(fd, $0, $1) }
        if rc != 0 && !(nonBlocking && errno == EINPROGRESS) {
            let error = SystemError("connect", detail: "\(host):\(port)")
            close(fd)
            throw error
        }
        return fd
    }

    /// Sends all of `bytes` on a blocking socket; a peer that went away is an error (EPIPE),
    /// never a SIGPIPE.
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("send")
            }
            offset += n
        }
    }

    public static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    public static func peerCredentials(_ fd: Int32) -> (uid: uid_t, pid: pid_t)? {
        var uid: uid_t = 0
        var pid: pid_t = 0
        return sb_peer_cred(fd, &uid, &pid) == 0 ? (uid, pid) : nil
    }

    public static func setReceiveTimeout(_ fd: Int32, seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

extension Socket {
    /// Sends one datagram to a Unix datagram socket (`@name` is the abstract namespace); used for
    /// systemd's `NOTIFY_SOCKET`.
    public static func sendDatagram(_ bytes: [UInt8], toUnixPath path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemError("socket") }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var name = Array(path.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 }
        guard name.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError("sendto", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: name) }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, len) }
            }
        }
        if rc < 0 { throw SystemError("sendto", detail: path) }
    }
}
