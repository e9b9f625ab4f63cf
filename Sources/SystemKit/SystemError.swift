import Glibc

/// A failed system call: which call, on what, and the errno text — enough for an operator to act on.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let call: String
    public let errno: Int32
    public let detail: String?

    public init(_ call: String, errno: Int32 = Glibc.errno, detail: String? = nil) {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    public var message: String { String(cString: strerror(errno)) }

    public var description: String {
        if let detail { return "\(call)(\(detail)): \(message)" }
        return "\(call): \(message)"
    }
}

/// Retries a call that may be interrupted by a signal, throwing on any other failure.
@discardableResult
public func retryingOnEINTR<T: BinaryInteger>(_ call: String, detail: String? = nil, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(call, errno: code, detail: detail)
    }
}
