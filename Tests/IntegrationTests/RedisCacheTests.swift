import JSON
import SuperBotTesting
import SystemKit
import Testing

/// Two daemons sharing one cache through one real redis-server, and what happens when it dies.
@Suite(.serialized) struct RedisCacheTests {
    func daemon(_ redis: RedisServer, prefix: String = "c:") throws -> Harness {
        try redisDaemon(redis, "cache: {backend: redis}\n  redis: {url: \"\(redis.unixURL)\", prefix: \"\(prefix)\"}")
    }

    @Test func twoDaemonsShareOneCacheAndTheMemoryCopyCoversAnOutage() throws {
        guard let redis = try redisServer() else { return }
        let a = try daemon(redis)
        defer { a.cleanup() }
        let b = try daemon(redis)
        defer { b.cleanup() }
        let other = try daemon(redis, prefix: "elsewhere:")
        defer { other.cleanup() }

        _ = try a.call("cache.set", ["key": "ticker:BTCUSDT", "value": ["price": 65000.5], "ttl": 30])
        // Written behind: B sees it as soon as Redis has it.
        #expect(waitUntil(5) { (try? b.call("cache.get", ["key": "ticker:BTCUSDT"]))?["hit"]?.boolValue == true })
        let onB = try b.call("cache.get", ["key": "ticker:BTCUSDT"])
        #expect(onB["value"]?["price"]?.doubleValue == 65000.5 && onB["source"]?.stringValue == "redis")
        #expect((onB["ttl"]?.doubleValue ?? 0) > 25)
        #expect(try other.call("cache.get", ["key": "ticker:BTCUSDT"])["hit"]?.boolValue == false, "another prefix")

        // A TTL holds in Redis too: gone for both once it passes.
        _ = try a.call("cache.set", ["key": "short", "value": 1, "ttl": 0.3])
        #expect(waitUntil(5) { (try? b.call("cache.get", ["key": "short"]))?["hit"]?.boolValue == true })
        #expect(waitUntil(5) { (try? b.call("cache.get", ["key": "short"]))?["hit"]?.boolValue == false })
        #expect(try a.call("cache.get", ["key": "short"])["source"]?.stringValue == "redis")

        _ = try b.call("cache.set", ["key": "book:ETHUSDT", "value": "b's", "ttl": 30])
        #expect(
            waitUntil(5) {
                (try? a.call("cache.mget", ["keys": ["book:ETHUSDT", "ticker:BTCUSDT", "none"]]))?["values"]
                    == ["b's", ["price": 65000.5], .null]
            })
        #expect(try b.call("cache.delete", ["keys": ["book:ETHUSDT"]])["deleted"]?.intValue == 1)
        #expect(try a.call("cache.get", ["key": "book:ETHUSDT"])["hit"]?.boolValue == false, "deleted everywhere")

        // Redis dies: each daemon answers from its memory copy, says so, and raises one alert.
        let alerts = try RawClient(a.socketPath)
        try alerts.send(#"{"jsonrpc":"2.0","id":1,"method":"bus.subscribe","params":{"pattern":"alert.redis"}}"# + "\n")
        _ = alerts.readJSON()
        redis.kill()
        let stale = try a.call("cache.get", ["key": "ticker:BTCUSDT"])
        #expect(
            stale["hit"]?.boolValue == true && stale["source"]?.stringValue == "memory"
                && stale["stale"]?.boolValue == true)
        #expect(try a.call("cache.get", ["key": "never-seen"])["hit"]?.boolValue == false)
        _ = try a.call("cache.set", ["key": "during", "value": 1, "ttl": 30])
        #expect(try a.call("cache.get", ["key": "during"])["value"]?.intValue == 1)
        let alert = alerts.readJSON()
        #expect(alert?["params"]?["data"]?["state"]?.stringValue == "down")
        #expect(alert?["params"]?["data"]?["role"]?.stringValue == "cache")
        let stats = try a.call("cache.stats")["redis"]
        #expect(stats?["state"]?.stringValue == "down" && (stats?["failures"]?.intValue ?? 0) >= 2)

        // It comes back: the next calls go to Redis again and the alert clears.
        try redis.start()
        #expect(
            waitUntil(15) {
                _ = try? a.call("cache.set", ["key": "after", "value": 2, "ttl": 30])
                return (try? a.call("cache.stats"))?["redis"]?["state"]?.stringValue == "up"
            })
        #expect(waitUntil(5) { (try? b.call("cache.get", ["key": "after"]))?["value"]?.intValue == 2 })
        var recovered = false
        for _ in 0..<20 where !recovered {
            recovered = alerts.readJSON()?["params"]?["data"]?["state"]?.stringValue == "up"
        }
        #expect(recovered)
    }

    @Test func aReloadSwitchesTheBackend() throws {
        guard let redis = try redisServer() else { return }
        let h = try Harness("daemon:\n  modules: {}\n")
        defer { h.cleanup() }
        try h.startDaemon()
        #expect(try h.call("cache.stats")["backend"]?.stringValue == "memory")
        try FileSystem.writeAtomically(
            h.dir + "/config/infrastructure.yaml",
            Array("infrastructure:\n  cache: {backend: redis}\n  redis: {url: \"\(redis.unixURL)\"}\n".utf8))
        _ = try h.call("daemon.reload_config")
        _ = try h.call("cache.set", ["key": "k", "value": 1])
        #expect(try h.call("cache.get", ["key": "k"])["source"]?.stringValue == "redis")
        #expect(try h.call("cache.stats")["redis"]?["state"]?.stringValue == "up")
    }
}
