import Glibc
import HTTP
import SystemKit

/// A blocking HTTP/1.1 client over one TCP connection, for server tests: raw bytes out, parsed
/// responses in, with a receive timeout so a stuck server fails the test instead of hanging it.
public final class HTTPTestClient: @unchecked Sendable {
    public let fd: Int32
    private var parser = HTTPParser(.response, maxBodyBytes: 64 << 20)
    private var eof = false

    /// `bufferBytes` shrinks the socket's kernel buffers, for tests of clients that stop reading.
    public init(port: UInt16, timeout: Double = 5, bufferBytes: Int32? = nil) throws {
        fd = try Socket.connectTCP(host: "127.0.0.1", port: port)
        if var size = bufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        Socket.setReceiveTimeout(fd, seconds: timeout)
    }

    deinit { close(fd) }

    public func send(_ text: String) throws { try Socket.sendAll(fd, Array(text.utf8)) }
    public func send(_ bytes: [UInt8]) throws { try Socket.sendAll(fd, bytes) }

    /// The next response, or `nil` when the server closed the connection (or the timeout passed).
    public func next(toHEAD: Bool = false) throws -> HTTPResponse? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let response = try parser.nextResponse(atEOF: eof, toHEAD: toHEAD) { return response }
            if eof { return nil }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 {
                eof = true
                continue
            }
            parser.append(buffer[0..<n])
        }
    }

    /// Raw bytes as they arrive (for streams read before they end); empty at EOF or timeout.
    public func readSome() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Whether the server closed the connection with nothing more to read.
    public func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }
}
