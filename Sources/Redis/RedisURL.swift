/// Where a Redis server is: `redis://[user:password@]host[:port][/db]` or
/// `unix:///path/to/redis.sock[?db=N]` (user and password as query items: `?user=u&password=p`).
public struct RedisURL: Equatable, Sendable, CustomStringConvertible {
    public enum Endpoint: Equatable, Sendable {
        case tcp(host: String, port: UInt16)
        case unix(path: String)
    }

    public var endpoint: Endpoint
    public var user: String?
    public var password: String?
    public var database = 0

    public init(endpoint: Endpoint, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(Invalid) {
        func fail(_ why: String) -> Invalid {
            Invalid(
                description:
                    "'\(text.prefix(120))' is not a Redis URL (\(why)); expected redis://[user:password@]host:port/db or unix:///path.sock"
            )
        }
        if text.hasPrefix("unix://") {
            var rest = Substring(text.dropFirst(7))
            var query: Substring = ""
            if let q = rest.firstIndex(of: "?") {
                query = rest[rest.index(after: q)...]
                rest = rest[..<q]
            }
            guard rest.hasPrefix("/"), rest.count > 1 else { throw fail("a unix socket needs an absolute path") }
            endpoint = .unix(path: String(rest))
            for item in query.split(separator: "&") {
                let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw fail("query item '\(item)' is not key=value") }
                switch kv[0] {
                case "db":
                    guard let db = Int(kv[1]), db >= 0 else { throw fail("db must be a number ≥ 0") }
                    database = db
                case "user": user = kv[1]
                case "password": password = kv[1]
                default: throw fail("unknown query item '\(kv[0])'")
                }
            }
            return
        }
        guard text.hasPrefix("redis://") else { throw fail("the scheme must be redis:// or unix://") }
        var rest = Substring(text.dropFirst(8))
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let u = credentials[..<colon]
                user = u.isEmpty ? nil : String(u)
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                password = String(credentials)
            }
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw fail("the database '\(db)' is not a number ≥ 0") }
                database = n
            }
        }
        var host = String(hostPort)
        var port: UInt16 = 6379
        if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = UInt16(hostPort[hostPort.index(after: colon)...]), p > 0 else {
                throw fail("the port must be 1…65535")
            }
            port = p
        }
        guard !host.isEmpty else { throw fail("no host") }
        endpoint = .tcp(host: host, port: port)
    }

    /// The URL without its password, for logs and errors.
    public var description: String {
        let auth = user.map { "\($0):***@" } ?? (password != nil ? ":***@" : "")
        switch endpoint {
        case .tcp(let host, let port): return "redis://\(auth)\(host):\(port)/\(database)"
        case .unix(let path): return "unix://\(path)" + (database != 0 ? "?db=\(database)" : "")
        }
    }
}
