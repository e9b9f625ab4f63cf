import JSON

/// The cache every module shares through the daemon (`cache.*`): what one module fetched, the
/// others read instead of fetching it again.
extension ModuleRuntime {
    /// The value under `key`, or nil when absent or expired.
    public func cacheGet(_ key: String) async throws -> JSON? {
        let reply = try await call("cache.get", ["key": .string(key)], timeout: 2)
        return reply["hit"]?.boolValue == true ? reply["value"] : nil
    }

    /// Stores `value` for `ttl` seconds (the daemon's `infrastructure.cache.default_ttl` when nil).
    public func cacheSet(_ key: String, _ value: JSON, ttl: Double? = nil) async throws {
        var params: [String: JSON] = ["key": .string(key), "value": value]
        if let ttl { params["ttl"] = JSON(ttl) }
        _ = try await call("cache.set", .object(params), timeout: 2)
    }

    /// Values of `keys` in order (nil for each miss).
    public func cacheMultiGet(_ keys: [String]) async throws -> [JSON?] {
        let reply = try await call("cache.mget", ["keys": .array(keys.map { .string($0) })], timeout: 2)
        return (reply["values"]?.arrayValue ?? []).map { $0.isNull ? nil : $0 }
    }

    public func cacheDelete(_ keys: [String]) async throws {
        _ = try await call("cache.delete", ["keys": .array(keys.map { .string($0) })], timeout: 2)
    }
}
