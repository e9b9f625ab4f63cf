import Cache
import JSON
import RPC
import Redis
import SystemKit

/// What the cache's Redis side did, for `cache.stats`.
struct CacheRedisFigures {
    var hits = 0
    var misses = 0
    /// Calls that failed and were answered from the memory copy instead.
    var failures = 0
    var down = false
    var lastError: String?
}

/// `cache.*`: the cache every module shares through the daemon (TTL per entry, LRU bounds).
/// With the Redis backend, reads go to Redis (so daemons share entries) and refresh the memory
/// copy, writes go to both, and while Redis is down the memory copy answers, marked as such.
extension Daemon {
    /// Keys are short printable names (`ticker:BTCUSDT`), at most this long.
    static let maxCacheKeyBytes = 512

    var cacheMethods: MethodNamespace {
        MethodNamespace("cache", ["get", "set", "delete", "mget", "stats"]) { [unowned self] request, _, reply in
            switch request.method {
            case "cache.get":
                guard let key = cacheKey(request) else { return reply(.failure(badKey)) }
                lookUp([key]) { values in reply(.success(values[0])) }
            case "cache.mget":
                guard let list = param(request, "keys")?.arrayValue, !list.isEmpty, list.count <= 1000,
                    list.allSatisfy({ $0.stringValue.map(Daemon.validCacheKey) ?? false })
                else {
                    return reply(.failure(.invalidParams("cache.mget needs {\"keys\": [...]}: 1 to 1000 valid keys")))
                }
                lookUp(list.map { $0.stringValue! }) { values in
                    reply(.success(["values": .array(values.map { $0["value"] ?? .null })]))
                }
            case "cache.set":
                guard let key = cacheKey(request) else { return reply(.failure(badKey)) }
                guard let value = param(request, "value", 1) else {
                    return reply(.failure(.invalidParams("cache.set needs {\"key\", \"value\", \"ttl\" (seconds)}")))
                }
                let ttl = param(request, "ttl", 2)?.doubleValue ?? infrastructure.cache.defaultTTL
                guard ttl > 0, ttl <= 30 * 86_400 else {
                    return reply(.failure(.invalidParams("'ttl' must be between 0 and 2592000 seconds (30 days)")))
                }
                let bytes = value.serializedBytes()
                guard cache.set(key, bytes, ttl: ttl, now: Clock.monotonic()) else {
                    return reply(
                        .failure(
                            .invalidParams(
                                "the value is larger than the whole cache (infrastructure.cache.max_mb: \(infrastructure.cache.maxBytes >> 20))"
                            )))
                }
                // Write-behind: the memory copy answers at once; a Redis failure is counted and alerted.
                cacheRemote?.set(key, bytes, ttl: ttl) { [unowned self] error in cacheRedisOutcome(error) }
                reply(.success(["key": .string(key), "stored": true, "ttl": JSON(ttl)]))
            case "cache.delete":
                let keys =
                    param(request, "keys")?.arrayValue?.compactMap(\.stringValue) ?? cacheKey(request).map { [$0] }
                guard let keys, !keys.isEmpty else {
                    return reply(.failure(.invalidParams("cache.delete needs {\"key\"} or {\"keys\": [...]}")))
                }
                let local = keys.filter { cache.delete($0) }.count
                guard let remote = cacheRemote else { return reply(.success(["deleted": JSON(local)])) }
                remote.delete(keys) { [unowned self] result in
                    cacheRedisOutcome(result.error)
                    reply(.success(["deleted": JSON((try? result.get()) ?? local)]))
                }
            default:
                reply(.success(cacheStats))
            }
        }
    }

    /// Each key's answer, `{key, hit, value, ttl, source}`; from Redis when it is the backend
    /// and answers, else from the memory copy (`source: memory`).
    private func lookUp(_ keys: [String], then: @escaping ([JSON]) -> Void) {
        guard let remote = cacheRemote else { return then(keys.map { fromMemory($0, source: nil) }) }
        remote.get(keys) { [unowned self] result in
            switch result {
            case .success(let entries):
                cacheRedisOutcome(nil)
                let now = Clock.monotonic()
                then(
                    zip(keys, entries).map { key, entry in
                        guard let entry, let value = try? JSON.parse(entry.bytes) else {
                            cacheRedis.misses += 1
                            // Gone there (expired, or deleted by another daemon): gone here too.
                            cache.delete(key)
                            return ["key": .string(key), "hit": false, "value": .null, "source": "redis"]
                        }
                        cacheRedis.hits += 1
                        cache.set(key, entry.bytes, ttl: entry.ttl, now: now)
                        return [
                            "key": .string(key), "hit": true, "value": value,
                            "ttl": JSON((entry.ttl * 1000).rounded() / 1000),
                            "source": "redis",
                        ]
                    })
            case .failure(let error):
                cacheRedisOutcome(error)
                then(keys.map { fromMemory($0, source: "memory") })
            }
        }
    }

    private func fromMemory(_ key: String, source: String?) -> JSON {
        let now = Clock.monotonic()
        var answer: [String: JSON] = ["key": .string(key), "hit": false, "value": .null]
        if let source { answer["source"] = .string(source) }
        if let bytes = cache.get(key, now: now), let value = try? JSON.parse(bytes) {
            answer["hit"] = true
            answer["value"] = value
            answer["ttl"] = JSON(((cache.ttl(key, now: now) ?? 0) * 1000).rounded() / 1000)
        }
        // Served because Redis is down: what another daemon changed since is not seen.
        if source == "memory" { answer["stale"] = true }
        return .object(answer)
    }

    /// Counts a Redis failure and raises `alert.redis` once per outage; a success clears it.
    func cacheRedisOutcome(_ error: RedisError?) {
        guard let remote = cacheRemote else { return }
        if let error {
            // The server's own refusal (e.g. NOAUTH) is an outage for the cache as much as a dead socket.
            cacheRedis.failures += 1
            cacheRedis.lastError = error.description
            guard !cacheRedis.down else { return }
            cacheRedis.down = true
            logger.warning("alert.redis", ["state": "down", "role": "cache", "error": .string(error.description)])
            bus.publish(
                topic: "alert.redis",
                [
                    "state": "down", "role": "cache", "error": .string(error.description),
                    "url": .string(remote.client.url.description),
                ])
        } else if cacheRedis.down {
            cacheRedis.down = false
            logger.info("alert.redis", ["state": "up", "role": "cache"])
            bus.publish(
                topic: "alert.redis",
                ["state": "up", "role": "cache", "url": .string(remote.client.url.description)])
        }
    }

    var cacheStats: JSON {
        let s = cache.stats
        var o: [String: JSON] = [
            "backend": .string(infrastructure.cache.backend.rawValue), "entries": JSON(s.entries),
            "bytes": JSON(s.bytes), "max_entries": JSON(cache.maxEntries), "max_bytes": JSON(cache.maxBytes),
            "hits": JSON(s.hits), "misses": JSON(s.misses), "hit_rate": JSON((s.hitRate * 10_000).rounded() / 10_000),
            "evictions": JSON(s.evictions), "expirations": JSON(s.expirations), "sets": JSON(s.sets),
            "deletes": JSON(s.deletes), "default_ttl": JSON(infrastructure.cache.defaultTTL),
        ]
        if let remote = cacheRemote {
            o["redis"] = [
                "state": cacheRedis.down ? "down" : "up", "url": .string(remote.client.url.description),
                "hits": JSON(cacheRedis.hits), "misses": JSON(cacheRedis.misses), "failures": JSON(cacheRedis.failures),
                "last_error": cacheRedis.lastError.map { .string($0) } ?? .null,
            ]
        }
        return .object(o)
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
