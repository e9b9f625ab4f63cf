import Cache
import Testing

/// The shared cache's semantics on a manual clock: TTL, LRU order, both bounds, counts.
@Suite struct CacheStoreTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func entriesExpireAtTheirTTL() {
        var c = CacheStore(maxEntries: 10, maxBytes: 1000)
        c.set("a", bytes("1"), ttl: 5, now: 100)
        c.set("b", bytes("2"), ttl: 1, now: 100)
        #expect(c.get("a", now: 104.9) == bytes("1") && c.ttl("a", now: 104) == 1)
        #expect(c.get("b", now: 101) == nil, "expired at exactly its TTL")
        #expect(c.get("a", now: 105) == nil)
        #expect(c.stats.expirations == 2 && c.stats.entries == 0 && c.stats.bytes == 0)
        #expect(c.stats.hits == 1 && c.stats.misses == 2 && c.stats.hitRate == 1.0 / 3)
        // Setting again renews the TTL and replaces the value.
        c.set("a", bytes("1"), ttl: 1, now: 200)
        c.set("a", bytes("longer"), ttl: 10, now: 200.5)
        #expect(c.get("a", now: 205) == bytes("longer") && c.stats.bytes == 1 + 6)
    }

    @Test func theLeastRecentlyUsedGoesFirst() {
        var c = CacheStore(maxEntries: 3, maxBytes: 1000)
        for k in ["a", "b", "c"] { c.set(k, bytes(k), ttl: 60, now: 0) }
        _ = c.get("a", now: 1)  // a is now the most recent
        c.set("d", bytes("d"), ttl: 60, now: 2)
        #expect(c.keysByRecency() == ["d", "a", "c"])
        #expect(c.get("b", now: 3) == nil && c.stats.evictions == 1)
        c.set("c", bytes("C"), ttl: 60, now: 4)  // an update is a use
        c.set("e", bytes("e"), ttl: 60, now: 5)
        #expect(c.keysByRecency() == ["e", "c", "d"])
    }

    @Test func theByteBoundEvictsUntilItFits() {
        var c = CacheStore(maxEntries: 100, maxBytes: 20)
        c.set("k1", [UInt8](repeating: 0, count: 8), ttl: 60, now: 0)  // 10 bytes
        c.set("k2", [UInt8](repeating: 0, count: 8), ttl: 60, now: 0)  // 20
        c.set("k3", [UInt8](repeating: 0, count: 3), ttl: 60, now: 0)  // 25 → k1 goes
        #expect(c.keysByRecency() == ["k3", "k2"] && c.stats.bytes == 15)
        #expect(c.set("huge", [UInt8](repeating: 0, count: 30), ttl: 60, now: 0) == false)
        #expect(c.stats.entries == 2, "a refused value evicts nothing")
    }

    @Test func purgeSweepsExpiredEntriesAndSlotsAreReused() {
        var c = CacheStore(maxEntries: 1000, maxBytes: 1 << 20)
        for i in 0..<500 { c.set("k\(i)", bytes("v"), ttl: i % 2 == 0 ? 1 : 100, now: 0) }
        #expect(c.purgeExpired(now: 2) == 250 && c.stats.entries == 250)
        for i in 0..<250 { c.set("n\(i)", bytes("v"), ttl: 100, now: 3) }
        #expect(c.stats.entries == 500 && c.get("k1", now: 4) == bytes("v") && c.get("k0", now: 4) == nil)
        #expect(c.delete("k1") && !c.delete("k1") && c.stats.deletes == 1)
        #expect(c.keysByRecency().count == 499)
    }
}
