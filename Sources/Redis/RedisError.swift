/// What can go wrong talking to Redis: the connection (retry later), the protocol (drop the
/// connection), or the server's own refusal of a command (`-ERR …`, `-WRONGPASS …`).
public enum RedisError: Error, Equatable, Sendable, CustomStringConvertible {
    case connection(String)
    case timeout
    case protocolError(String)
    case server(String)

    public var description: String {
        switch self {
        case .connection(let why): "Redis connection: \(why)"
        case .timeout: "Redis did not answer in time"
        case .protocolError(let why): "Redis sent something that is not RESP: \(why)"
        case .server(let message): "Redis refused: \(message)"
        }
    }
}
