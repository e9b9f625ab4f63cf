import JSON

/// A cache shared with other processes (the daemon's `cache.*`): market data one module fetched
/// is there for the others under the same TTLs. Failures are the cache's to absorb: a `get` that
/// cannot answer is a miss, a `set` that cannot store is forgotten.
public protocol SharedCache: Sendable {
    func get(_ key: String) async -> JSON?
    func set(_ key: String, _ value: JSON, ttl: Double) async
}
