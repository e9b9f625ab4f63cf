import Redis
import SystemKit
import YAML

/// `config/infrastructure.yaml`: the backends of the daemon's shared resources (the cache and
/// the bus: `memory` or `redis`), the Redis server, and the shared connection pool's limits.
/// The file is optional; without it everything is in memory.
public struct InfrastructureConfig: Equatable, Sendable {
    public enum Backend: String, Sendable, Equatable { case memory, redis }

    public struct Cache: Equatable, Sendable {
        public var backend = Backend.memory
        /// Bounds of the in-memory cache (and of the copy kept when Redis is down).
        public var maxEntries = 100_000
        public var maxBytes = 64 << 20
        /// Seconds an entry lives when `cache.set` gives no `ttl`.
        public var defaultTTL = 60.0
    }

    public struct Redis: Equatable, Sendable {
        public var url = RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6379))
        /// Key and channel prefix in Redis, one per deployment: daemons with the same prefix share.
        public var prefix = "superbot:"
        /// Seconds to wait for a reply before the server counts as down.
        public var timeout = 1.0
    }

    public struct ConnectionPool: Equatable, Sendable {
        public var minConnections = 2
        public var maxConnections = 10
        public var connectionTimeout = 30.0
        public var idleTimeout = 300.0
    }

    public var file: String?
    public var cache = Cache()
    public var bus = Backend.memory
    public var redis = Redis()
    public var connectionPool = ConnectionPool()

    public init() {}

    /// `infrastructure.yaml` in `directory`; the defaults when there is none.
    public static func load(directory: String) throws -> InfrastructureConfig {
        let path = directory + "/infrastructure.yaml"
        guard FileSystem.exists(path) else { return InfrastructureConfig() }
        let (file, root) = try ConfigDocument.load(path, defaultName: "infrastructure.yaml")
        return try parse(root, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> InfrastructureConfig {
        try parse(try ConfigDocument.parse(text, file: file), file: file)
    }

    static func parse(_ root: YAMLNode, file: String) throws -> InfrastructureConfig {
        let top = try MappingReader(root, file: file, path: "(top level)", allowed: ["infrastructure"])
        guard let node = top.value("infrastructure") else {
            throw ConfigError(file, root, "missing the top-level 'infrastructure:' mapping")
        }
        let i = try MappingReader(
            node, file: file, path: "infrastructure", allowed: ["cache", "bus", "redis", "connection_pool"])
        var c = InfrastructureConfig()
        c.file = file
        let cache = try i.child("cache", allowed: ["backend", "max_entries", "max_mb", "default_ttl"])
        c.cache.backend = Backend(rawValue: try cache.oneOf("backend", ["memory", "redis"], default: "memory"))!
        c.cache.maxEntries = try cache.int("max_entries", default: c.cache.maxEntries, range: 1...100_000_000)
        c.cache.maxBytes = try cache.int("max_mb", default: 64, range: 1...65_536) << 20
        c.cache.defaultTTL = try cache.seconds("default_ttl", default: c.cache.defaultTTL, minimum: 0.001)
        let bus = try i.child("bus", allowed: ["backend"])
        c.bus = Backend(rawValue: try bus.oneOf("backend", ["memory", "redis"], default: "memory"))!
        let redis = try i.child("redis", allowed: ["url", "timeout", "prefix"])
        c.redis.prefix = try redis.string("prefix", default: c.redis.prefix)
        if let url = try redis.optionalString("url") {
            do { c.redis.url = try RedisURL(parsing: url) } catch { throw redis.error("url", error.description) }
        }
        c.redis.timeout = try redis.seconds("timeout", default: c.redis.timeout, minimum: 0.01)
        let pool = try i.child(
            "connection_pool", allowed: ["min_connections", "max_connections", "connection_timeout", "idle_timeout"])
        c.connectionPool.minConnections = try pool.int("min_connections", default: 2, range: 0...1000)
        c.connectionPool.maxConnections = try pool.int("max_connections", default: 10, range: 1...1000)
        guard c.connectionPool.minConnections <= c.connectionPool.maxConnections else {
            throw pool.error("min_connections", "must not exceed max_connections (\(c.connectionPool.maxConnections))")
        }
        c.connectionPool.connectionTimeout = try pool.seconds("connection_timeout", default: 30, minimum: 0.01)
        c.connectionPool.idleTimeout = try pool.seconds("idle_timeout", default: 300, minimum: 0)
        return c
    }
}
