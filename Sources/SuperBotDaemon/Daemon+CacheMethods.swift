import Cache
import JSON
import RPC
import SystemKit

/// `cache.*`: the cache every module shares through the daemon (TTL per entry, LRU bounds).
extension Daemon {
    /// Keys are short printable names (`ticker:BTCUSDT`), at most this long.
    static let maxCacheKeyBytes = 512

    var cacheMethods: MethodNamespace {
        MethodNamespace("cache", ["get", "set", "delete", "mget", "stats"]) { [unowned self] request, _, reply in
            let now = Clock.monotonic()
            switch request.method {
            case "cache.get":
                guard let key = cacheKey(request) else { return reply(.failure(badKey)) }
                guard let bytes = cache.get(key, now: now), let value = try? JSON.parse(bytes) else {
                    return reply(.success(["key": .string(key), "hit": false, "value": .null]))
                }
                reply(
                    .success([
                        "key": .string(key), "hit": true, "value": value,
                        "ttl": JSON(((cache.ttl(key, now: now) ?? 0) * 1000).rounded() / 1000),
                    ]))
            case "cache.mget":
                guard let list = param(request, "keys")?.arrayValue, !list.isEmpty, list.count <= 1000,
                    list.allSatisfy({ $0.stringValue.map(Daemon.validCacheKey) ?? false })
                else {
                    return reply(.failure(.invalidParams("cache.mget needs {\"keys\": [...]}: 1 to 1000 valid keys")))
                }
                let values = list.map { key -> JSON in
                    cache.get(key.stringValue!, now: now).flatMap { try? JSON.parse($0) } ?? .null
                }
                reply(.success(["values": .array(values)]))
            case "cache.set":
                guard let key = cacheKey(request) else { return reply(.failure(badKey)) }
                guard let value = param(request, "value", 1) else {
                    return reply(.failure(.invalidParams("cache.set needs {\"key\", \"value\", \"ttl\" (seconds)}")))
                }
                let ttl = param(request, "ttl", 2)?.doubleValue ?? infrastructure.cache.defaultTTL
                guard ttl > 0, ttl <= 30 * 86_400 else {
                    return reply(.failure(.invalidParams("'ttl' must be between 0 and 2592000 seconds (30 days)")))
                }
                guard cache.set(key, value.serializedBytes(), ttl: ttl, now: now) else {
                    return reply(
                        .failure(
                            .invalidParams(
                                "the value is larger than the whole cache (infrastructure.cache.max_mb: \(infrastructure.cache.maxBytes >> 20))"
                            )))
                }
                reply(.success(["key": .string(key), "stored": true, "ttl": JSON(ttl)]))
            case "cache.delete":
                let keys =
                    param(request, "keys")?.arrayValue?.compactMap(\.stringValue) ?? cacheKey(request).map { [$0] }
                guard let keys, !keys.isEmpty else {
                    return reply(.failure(.invalidParams("cache.delete needs {\"key\"} or {\"keys\": [...]}")))
                }
                reply(.success(["deleted": JSON(keys.filter { cache.delete($0) }.count)]))
            default:
                reply(.success(cacheStats))
            }
        }
    }

    var cacheStats: JSON {
        let s = cache.stats
        return [
            "backend": .string(infrastructure.cache.backend.rawValue), "entries": JSON(s.entries),
            "bytes": JSON(s.bytes), "max_entries": JSON(cache.maxEntries), "max_bytes": JSON(cache.maxBytes),
            "hits": JSON(s.hits), "misses": JSON(s.misses), "hit_rate": JSON((s.hitRate * 10_000).rounded() / 10_000),
            "evictions": JSON(s.evictions), "expirations": JSON(s.expirations), "sets": JSON(s.sets),
            "deletes": JSON(s.deletes), "default_ttl": JSON(infrastructure.cache.defaultTTL),
        ]
    }

    private var badKey: RPCError {
        .invalidParams(
            "needs {\"key\": \"...\"}: 1 to \(Daemon.maxCacheKeyBytes) bytes of printable text (e.g. ticker:BTCUSDT)")
    }

    private func cacheKey(_ request: RPCRequest) -> String? {
        guard let key = param(request, "key")?.stringValue, Daemon.validCacheKey(key) else { return nil }
        return key
    }

    static func validCacheKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= maxCacheKeyBytes
            && key.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
    }
}
