import JSON

/// A JSON-RPC 2.0 error object. Standard codes from the spec; ours live in -32000…-32099.
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSON?

    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func parseError(_ detail: String) -> RPCError {
        .init(code: -32700, message: "Parse error: \(detail)")
    }
    public static func invalidRequest(_ detail: String) -> RPCError {
        .init(code: -32600, message: "Invalid Request: \(detail)")
    }
    public static func methodNotFound(_ method: String) -> RPCError {
        .init(code: -32601, message: "Method not found: \(method)")
    }
    public static func invalidParams(_ detail: String) -> RPCError {
        .init(code: -32602, message: "Invalid params: \(detail)")
    }
    public static func internalError(_ detail: String) -> RPCError {
        .init(code: -32603, message: "Internal error: \(detail)")
    }

    /// Authentication is required or failed.
    public static func unauthorized(_ detail: String) -> RPCError { .init(code: -32000, message: detail) }
    /// No such module (or other named object).
    public static func notFound(_ detail: String) -> RPCError { .init(code: -32001, message: detail) }
    /// The operation failed (a module that would not start, a config that would not load…).
    public static func failed(_ detail: String, data: JSON? = nil) -> RPCError {
        .init(code: -32002, message: detail, data: data)
    }
    /// A limit was hit (message size, connections).
    public static func limit(_ detail: String) -> RPCError { .init(code: -32003, message: detail) }
    /// The daemon is shutting down.
    public static func shuttingDown() -> RPCError { .init(code: -32004, message: "the daemon is shutting down") }

    public var json: JSON {
        var o: [String: JSON] = ["code": .number(Double(code)), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }

    public var description: String { "\(message) (\(code))" }
}
