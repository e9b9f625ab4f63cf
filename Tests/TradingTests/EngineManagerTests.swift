import ExchangeConnector
import ExchangeModel
import JSON
import SuperBotConfig
import SuperBotTesting
import Synchronization
import SystemKit
import Testing
import Trading
import TradingSettings

@testable import Engines

final class RecordingPublisher: EventPublisher {
    let topics = Mutex<[String]>([])
    func publish(_ topic: String, _ data: JSON) { topics.withLock { $0.append(topic) } }
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct EngineManagerTests {
    static let symbols = [
        "BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT", "DOTUSDT", "LINKUSDT",
        "MATICUSDT", "LTCUSDT", "TRXUSDT", "ATOMUSDT", "UNIUSDT",
    ]

    func config(_ dir: String, symbols: [String]) throws -> TradingConfig {
        let list = symbols.joined(separator: ", ")
        return try TradingConfig.parse(
            """
            trading:
              data_dir: \(dir)/data
              symbols: [\(list)]
              engine_defaults:
                cycle_interval: 0.05
                heartbeat_timeout: 1
                strategy: {fast: 2, slow: 4}
                recovery: {backoff: 0.05, max_backoff: 0.5, error_spike: 4}
            """, file: "trading.yaml", baseDirectory: dir)
    }

    @Test func fifteenSymbolsLogToFifteenFiles() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let events = RecordingPublisher()
        let manager = EngineManager(
            config: try config(dir, symbols: Self.symbols), exchange: FakeExchange(prices: wavePrices),
            logDirectory: dir + "/logs", events: events)
        await manager.startAll(monitorInterval: 0.05)
        let allRunning = await waitUntil(10) {
            let status = try? await manager.statusJSON(nil)
            return status?["engines"]?.arrayValue?.allSatisfy {
                $0["status"] == "running" && ($0["cycles"]?.intValue ?? 0) >= 3
            } ?? false
        }
        await manager.stopAll()
        #expect(allRunning)
        let files = FileSystem.listDirectory(dir + "/logs").filter { $0.hasPrefix("engine-") }.sorted()
        #expect(files == Self.symbols.map { "engine-\($0)-\(Clock.utcDay(Clock.wall())).jsonl" }.sorted())
        for symbol in Self.symbols {
            let text = try FileSystem.readString(dir + "/logs/engine-\(symbol)-\(Clock.utcDay(Clock.wall())).jsonl")
            let lines = text.split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines {
                #expect(
                    (try JSON.parse(String(line)))["logger"]?.stringValue == "engine.\(symbol)",
                    "a foreign line in \(symbol)'s log: \(line)")
            }
        }
        #expect(FileSystem.listDirectory(dir + "/logs").contains { $0.hasPrefix("orchestrator-") })
        let topics = events.topics.withLock { Set($0) }
        #expect(topics.contains("price.BTCUSDT.update"))
        #expect(topics.contains("engine.UNIUSDT.status"))
        #expect(FileSystem.exists(dir + "/data/engine_registry.json"))
    }

    @Test func crashedEngineRecoversAndOthersNeverNotice() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let symbols = Array(Self.symbols.prefix(3))
        let manager = EngineManager(
            config: try config(dir, symbols: symbols), exchange: FakeExchange(prices: wavePrices),
            logDirectory: dir + "/logs", events: RecordingPublisher())
        await manager.startAll(monitorInterval: 0.05)
        defer { Task { await manager.stopAll() } }
        #expect(await waitUntil(10) { await manager.engine("ETHUSDT")?.info.status == .running })
        let before = await manager.engine("BNBUSDT")!.info
        try await manager.inject(.crash, into: "ETHUSDT")
        let recovered = await waitUntil(10) {
            let i = await manager.engine("ETHUSDT")!.info
            return i.status == .running && i.restarts == 1
        }
        #expect(recovered)
        let other = await manager.engine("BNBUSDT")!.info
        #expect(other.restarts == 0)
        #expect(other.cycles > before.cycles)
        #expect(other.status == .running)
    }

    @Test func silentEngineIsRestartedAfterHeartbeatTimeout() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let manager = EngineManager(
            config: try config(dir, symbols: ["BTCUSDT", "ETHUSDT"]), exchange: FakeExchange(prices: wavePrices),
            logDirectory: dir + "/logs", events: RecordingPublisher())
        await manager.startAll(monitorInterval: 0.05)
        defer { Task { await manager.stopAll() } }
        #expect(await waitUntil(10) { await manager.engine("BTCUSDT")?.info.status == .running })
        try await manager.inject(.hang, into: "BTCUSDT")
        let restarted = await waitUntil(10) {
            let i = await manager.engine("BTCUSDT")!.info
            return i.restarts >= 1 && i.status == .running
        }
        #expect(restarted)
        #expect(await manager.engine("ETHUSDT")!.info.restarts == 0)
    }

    @Test func errorSpikeCrashesThenRecoveryStopsAfterFiveRestartsAnHour() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let exchange = FakeExchange(prices: wavePrices)
        exchange.failSymbol("SOLUSDT", true)
        let manager = EngineManager(
            config: try config(dir, symbols: ["SOLUSDT", "ETHUSDT"]), exchange: exchange, logDirectory: dir + "/logs",
            events: RecordingPublisher())
        await manager.startAll(monitorInterval: 0.05)
        defer { Task { await manager.stopAll() } }
        // Each run: 4 errors (the spike) with backoff → crashed → restart; the sixth failure gives up.
        let gaveUp = await waitUntil(40) {
            let s = try? await manager.statusJSON("SOLUSDT")
            return s?["status"] == "crashed"
                && (s?["reason"]?.stringValue ?? "").contains("restarts within the last hour")
        }
        #expect(gaveUp)
        #expect(await manager.engine("SOLUSDT")!.info.restarts == 5)
        #expect(await manager.engine("ETHUSDT")!.info.status == .running)
        // An operator start clears the history once the cause is fixed.
        exchange.failSymbol("SOLUSDT", false)
        try await manager.start("SOLUSDT")
        #expect(await waitUntil(10) { await manager.engine("SOLUSDT")!.info.status == .running })
    }
}

/// An engine that cannot recover shows what it last knew, marked stale, never a fresh ledger.
@Suite struct StaleStateTests {
    @Test func aCrashedEngineReportsItsLastSnapshotAsStale() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        var saved = Ledger(initialCash: 10_000)
        saved.mark(price: 100, day: "20260101")
        saved.apply(side: .buy, price: 100, qty: 0.5, fee: 0.05)
        try FileSystem.makeDirectories(dir + "/data/state")
        try FileSystem.makeDirectories(dir + "/data/trades")
        let snapshot: JSON = ["symbol": "BTCUSDT", "ts": 1_800_000_000, "ledger": saved.json]
        try FileSystem.writeAtomically(dir + "/data/state/BTCUSDT.json", snapshot.serializedBytes())
        // A journal the engine refuses to replay: it stays crashed for an operator.
        try FileSystem.writeAtomically(dir + "/data/trades/BTCUSDT.jsonl", Array("not a journal entry\n".utf8))
        let config = try TradingConfig.parse(
            """
            trading:
              data_dir: \(dir)/data
              symbols: [BTCUSDT]
              engine_defaults: {cycle_interval: 0.05, recovery: {backoff: 0.05, max_backoff: 0.5}}
            """, file: "trading.yaml", baseDirectory: dir)
        let manager = EngineManager(
            config: config, exchange: FakeExchange(prices: wavePrices), logDirectory: dir + "/logs",
            events: RecordingPublisher())
        await manager.startAll(monitorInterval: 0.05)
        defer { Task { await manager.stopAll() } }
        #expect(await waitUntil(10) { await manager.engine("BTCUSDT")?.info.status == .crashed })
        let status = try await manager.statusJSON("BTCUSDT")
        #expect(status["position"]?.doubleValue == 0.5)
        #expect(status["cash"]?.doubleValue == saved.cash)
        #expect(status["stale"]?.stringValue?.contains("last snapshot") == true, "\(status["stale"] ?? .null)")
        let positions = await manager.positions()
        #expect(positions.arrayValue?.first?["stale"]?.stringValue != nil)
    }
}
