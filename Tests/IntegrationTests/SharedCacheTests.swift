import JSON
import SuperBotTesting
import SystemKit
import Testing

/// The daemon's shared cache through the socket, the CLI and a module's runtime.
@Suite(.serialized) struct SharedCacheTests {
    func harness() throws -> Harness {
        let h = try Harness(
            """
            daemon:
              modules:
                cacher:
                  command: superbot-fixture-module
                  args: ["--cache"]
              autostart: [cacher]
            """)
        try FileSystem.writeAtomically(
            h.dir + "/config/infrastructure.yaml",
            Array("infrastructure:\n  cache: {backend: memory, max_entries: 3, default_ttl: 30}\n".utf8))
        return h
    }

    @Test func getSetTTLAndEviction() throws {
        let h = try harness()
        defer { h.cleanup() }
        try h.startDaemon()
        _ = try h.call("cache.set", ["key": "ticker:BTCUSDT", "value": ["price": 65000.5], "ttl": 0.3])
        let hit = try h.call("cache.get", ["key": "ticker:BTCUSDT"])
        #expect(hit["hit"]?.boolValue == true && hit["value"]?["price"]?.doubleValue == 65000.5)
        #expect(waitUntil(5) { (try? h.call("cache.get", ["key": "ticker:BTCUSDT"]))?["hit"]?.boolValue == false })

        for k in ["a", "b", "c", "d"] { _ = try h.call("cache.set", ["key": .string(k), "value": .string(k)]) }
        let values = try h.call("cache.mget", ["keys": ["a", "b", "c", "d"]])["values"]?.arrayValue
        #expect(values == [.null, "b", "c", "d"], "max_entries 3: the least recently used went")
        let stats = try h.call("cache.stats")
        #expect(
            stats["entries"]?.intValue == 3 && stats["evictions"]?.intValue == 1 && stats["max_entries"]?.intValue == 3)
        #expect(stats["default_ttl"]?.doubleValue == 30)
        #expect(try h.call("cache.delete", ["keys": ["b", "zz"]])["deleted"]?.intValue == 1)

        for bad: JSON in [["key": ""], ["key": "a\u{1}b"], ["value": 1], ["key": "k", "value": 1, "ttl": -1]] {
            #expect(throws: (any Error).self, "\(bad.serialized())") { _ = try h.call("cache.set", bad) }
        }
        #expect(throws: (any Error).self) { _ = try h.call("cache.mget", ["keys": []]) }
    }

    @Test func theCLIAndAModuleShareIt() throws {
        let h = try harness()
        defer { h.cleanup() }
        try h.startDaemon()
        #expect(h.waitForState("cacher", "running"))
        let set = h.cli(["cache", "set", "book:ETHUSDT", #"{"bid": 3400.1}"#, "--ttl", "60"])
        #expect(set.code == 0 && set.output.contains("stored book:ETHUSDT"), "\(set.output)")
        // The module reads what the CLI stored, through its runtime's cacheGet…
        #expect(
            waitUntil(10) {
                (try? h.call("fixture.cache_get", ["key": "book:ETHUSDT"]))?["value"]?["bid"]?.doubleValue == 3400.1
            })
        // … and what it stores, the CLI reads.
        _ = try h.call("fixture.cache_set", ["key": "klines:SOL", "value": [1, 2, 3], "ttl": 60])
        let get = h.cli(["cache", "get", "klines:SOL"])
        #expect(get.code == 0 && get.output.contains("[1,2,3]"), "\(get.output)")
        #expect(h.cli(["cache", "get", "nothing"]).code == 1)
        let stats = h.cli(["cache", "stats"])
        #expect(stats.code == 0 && stats.output.contains("hit_rate"))
        #expect(h.cli(["cache", "set", "k", "{not json"]).code == 2)
    }

    @Test func aBadInfrastructureFileStopsTheStartAndAReloadKeepsTheRunningOne() throws {
        let h = try harness()
        defer { h.cleanup() }
        let path = h.dir + "/config/infrastructure.yaml"
        try FileSystem.writeAtomically(
            path, Array("infrastructure:\n  cache: {backend: memory, max_entries: -5}\n".utf8))
        let out = h.dir + "/check.out"
        #expect(
            Harness.run(
                Harness.binary("superbot"), ["--config", h.dir + "/config", "--check-config"], cwd: h.dir, output: out)
                == 2)
        #expect(((try? FileSystem.readString(out)) ?? "").contains("infrastructure.yaml:2:"))

        try FileSystem.writeAtomically(path, Array("infrastructure:\n  cache: {max_entries: 3}\n".utf8))
        try h.startDaemon()
        try FileSystem.writeAtomically(path, Array("infrastructure:\n  cache: {max_entries: 2, max_mb: 1}\n".utf8))
        let reloaded = try h.call("daemon.reload_config")
        #expect(reloaded["infrastructure_changed"]?.boolValue == true)
        #expect(try h.call("cache.stats")["max_entries"]?.intValue == 2)
        try FileSystem.writeAtomically(path, Array("infrastructure:\n  cahce: {}\n".utf8))
        #expect(throws: (any Error).self) { _ = try h.call("daemon.reload_config") }
        #expect(try h.call("cache.stats")["max_entries"]?.intValue == 2)
    }
}
