import JSON

/// A validated JSON-RPC 2.0 request. `id == nil` means a notification (no reply, even on error).
public struct RPCRequest: Equatable, Sendable {
    public var id: JSON?
    public var method: String
    public var params: JSON?

    public init(id: JSON?, method: String, params: JSON? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    public var isNotification: Bool { id == nil }

    public var json: JSON {
        var o: [String: JSON] = ["jsonrpc": "2.0", "method": .string(method)]
        if let id { o["id"] = id }
        if let params { o["params"] = params }
        return .object(o)
    }
}

/// One line received on the socket: a single request or a batch, each entry valid or not.
public enum RPCIncoming: Equatable, Sendable {
    case single(Result<RPCRequest, RPCFailure>)
    /// A reply from a client that serves methods (`rpc.register`) to a request the daemon forwarded.
    case response(id: JSON, result: Result<JSON, RPCError>)
    case batch([Result<RPCRequest, RPCFailure>])
    /// Unparseable JSON or an empty batch: one error reply with `id: null`.
    case invalid(RPCError)

    public static func parse(_ line: [UInt8]) -> RPCIncoming {
        let value: JSON
        do {
            value = try JSON.parse(line)
        } catch {
            return .invalid(.parseError("\(error)"))
        }
        if case .array(let items) = value {
            if items.isEmpty { return .invalid(.invalidRequest("empty batch")) }
            return .batch(items.map(validate))
        }
        if let o = value.objectValue, o["method"] == nil, let id = o["id"], o["jsonrpc"] == "2.0" {
            if let result = o["result"], o["error"] == nil { return .response(id: id, result: .success(result)) }
            if let error = o["error"], o["result"] == nil {
                return .response(
                    id: id,
                    result: .failure(
                        RPCError(
                            code: error["code"]?.intValue ?? -32603,
                            message: error["message"]?.stringValue ?? "error without a message", data: error["data"])))
            }
        }
        return .single(validate(value))
    }

    static func validate(_ value: JSON) -> Result<RPCRequest, RPCFailure> {
        guard case .object(let o) = value else {
            return .failure(RPCFailure(id: .null, error: .invalidRequest("a request must be a JSON object")))
        }
        let id = o["id"]
        if let id {
            switch id {
            case .string, .integer, .number, .null: break
            default:
                return .failure(RPCFailure(id: .null, error: .invalidRequest("'id' must be a string, number or null")))
            }
        }
        let replyID = id ?? .null
        guard o["jsonrpc"] == "2.0" else {
            return .failure(RPCFailure(id: replyID, error: .invalidRequest("'jsonrpc' must be \"2.0\"")))
        }
        guard let method = o["method"]?.stringValue else {
            return .failure(RPCFailure(id: replyID, error: .invalidRequest("'method' must be a string")))
        }
        if let params = o["params"] {
            switch params {
            case .object, .array: break
            default:
                return .failure(
                    RPCFailure(id: replyID, error: .invalidRequest("'params' must be an object or an array")))
            }
        }
        return .success(RPCRequest(id: id, method: method, params: o["params"]))
    }
}

/// An invalid request entry and the id to answer it with.
public struct RPCFailure: Error, Equatable, Sendable {
    public var id: JSON
    public var error: RPCError
}

public enum RPCResponse {
    public static func result(id: JSON, _ result: JSON) -> JSON {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    public static func error(id: JSON, _ error: RPCError) -> JSON {
        ["jsonrpc": "2.0", "id": id, "error": error.json]
    }

    public static func notification(_ method: String, _ params: JSON) -> JSON {
        ["jsonrpc": "2.0", "method": .string(method), "params": params]
    }
}
