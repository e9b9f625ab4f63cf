import ExchangeConnector
import JSON
import SuperBotTesting
import Synchronization
import SystemKit
import Testing

/// The connector's market data through a cache shared with other clients (`exchange.cache.shared`).
@Suite struct SharedExchangeCacheTests {
    /// What the daemon's cache does, in memory: TTLs are not the point here.
    final class MemoryShared: SharedCache {
        let entries = Mutex<[String: JSON]>([:])
        let gets = Mutex(0)
        func get(_ key: String) async -> JSON? {
            gets.withLock { $0 += 1 }
            return entries.withLock { $0[key] }
        }
        func set(_ key: String, _ value: JSON, ttl: Double) async { entries.withLock { $0[key] = value } }
    }

    @Test func aSecondClientReadsWhatTheFirstFetched() async throws {
        let sim = try SimProcess()
        let shared = MemoryShared()
        let settings = ExchangeClient.Settings(baseURL: "http://127.0.0.1:\(sim.port)")
        let first = try ExchangeClient(settings, sharedCache: shared)
        defer { first.shutdown() }
        let second = try ExchangeClient(settings, sharedCache: shared)
        defer { second.shutdown() }
        let plain = try sim.client()
        defer { plain.shutdown() }

        let price = try await first.tickerPrice("BTCUSDT")
        let klines = try await first.klines("ETHUSDT", interval: "1m", limit: 10)
        let before = try await sim.stats(plain)["requests"]?.intValue ?? 0
        #expect(try await second.tickerPrice("BTCUSDT") == price)
        #expect(try await second.klines("ETHUSDT", interval: "1m", limit: 10) == klines)
        let after = try await sim.stats(plain)["requests"]?.intValue ?? 0
        #expect(after == before + 1, "only the stats request itself reached the exchange")
        #expect(second.counterValues.sharedHits == 2)
        #expect(
            shared.entries.withLock { $0.keys.allSatisfy { $0.hasPrefix("exchange:http://127.0.0.1:\(sim.port):") } })

        // The account is each client's own: never shared.
        _ = try await first.accountBalance("USDT")
        #expect(shared.entries.withLock { !$0.keys.contains { $0.contains("account") } })
    }
}

/// trading-engine with `exchange.cache.shared: true` under a real daemon: its market data shows
/// up in the daemon's cache for other modules.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SharedExchangeCacheSystemTests {
    @Test func theTradingEnginesMarketDataIsInTheDaemonsCache() throws {
        let port = Harness.freePort()
        let h = try Harness(
            """
            daemon:
              modules:
                exchange-sim: {command: exchange-sim, port: \(port), healthcheck_endpoint: /health, start_seconds: 0}
                trading: {command: trading-engine, depends_on: [exchange-sim], start_seconds: 0}
              autostart: [exchange-sim, trading]
            """)
        defer { h.cleanup() }
        try FileSystem.writeAtomically(
            h.dir + "/config/trading.yaml",
            Array(
                """
                trading:
                  symbols: [BTCUSDT]
                  engine_defaults: {cycle_interval: 0.2, strategy: {fast: 2, slow: 4}}
                  exchange: {base_url: "http://127.0.0.1:\(port)", cache: {ticker: 5, shared: true}}
                  simulator: {port: \(port), speed: 60, history_bars: 20}
                """.utf8))
        try h.startDaemon()
        let key = "exchange:http://127.0.0.1:\(port):ticker:BTCUSDT"
        #expect(
            waitUntil(30) { (try? h.call("cache.get", ["key": .string(key)]))?["hit"]?.boolValue == true },
            "\(h.cli(["cache", "stats"]).output)")
        let price = try h.call("cache.get", ["key": .string(key)])["value"]?["price"]?.stringValue
        #expect(price.flatMap(Double.init).map { $0 > 0 } == true)
    }
}
