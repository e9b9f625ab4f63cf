import Glibc
import JSON
import SuperBotTesting
import SystemKit
import Testing

/// The whole trading system under the real daemon: exchange-sim + trading-engine, driven by the CLI.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TradingSystemTests {
    func start(symbols: [String]) throws -> Harness {
        let port = Harness.freePort()
        let h = try Harness(
            """
            daemon:
              modules:
                exchange-sim: {command: exchange-sim, port: \(port), healthcheck_endpoint: /health, start_seconds: 0}
                trading:
                  command: trading-engine
                  depends_on: [exchange-sim]
                  env: {SUPERBOT_ENGINE_FAULTS: "1"}
                  start_seconds: 0
                  restart_delay: 0.1
              autostart: [exchange-sim, trading]
            """)
        try writeFastTradingConfig(h, symbols: symbols, port: port, heartbeatTimeout: 3)
        try h.startDaemon()
        return h
    }

    func engines(_ h: Harness) -> [JSON] {
        let r = h.cli(["--json", "engines"])
        guard r.code == 0, let list = try? JSON.parse(r.output) else { return [] }
        return list.arrayValue ?? []
    }

    /// Fills per symbol as the journals on disk record them.
    func journalFills(_ h: Harness, _ symbol: String) -> Int {
        let text = (try? FileSystem.readString(h.dir + "/data/trades/\(symbol).jsonl")) ?? ""
        return text.split(separator: "\n").filter { $0.contains("\"type\":\"fill\"") }.count
    }

    @Test func enginesTradeRecoverAndSurviveAKilledProcess() throws {
        let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        let h = try start(symbols: symbols)
        #expect(
            waitUntil(30) { engines(h).count == 3 && engines(h).allSatisfy { $0["status"] == "running" } },
            "\(h.cli(["engines"]).output)")
        #expect(
            waitUntil(60) { engines(h).reduce(0) { $0 + ($1["trade_count"]?.intValue ?? 0) } >= 2 },
            "no trades: \(h.cli(["engines"]).output)")

        // The table, one engine, positions, balance and the per-symbol log.
        let table = h.cli(["engines"])
        #expect(table.code == 0 && table.output.contains("SYMBOL") && table.output.contains("SOLUSDT"))
        #expect(h.cli(["engines", "ETHUSDT"]).output.contains("status"))
        #expect(h.cli(["trading", "positions"]).output.contains("BTCUSDT"))
        #expect(h.cli(["trading", "balance"]).output.contains("equity"))
        // The books against the exchange account, checked on demand: every engine agrees.
        let reconcile = h.cli(["--json", "trading", "reconcile"])
        let rows = (try? JSON.parse(reconcile.output))?["reconciliation"]?.arrayValue ?? []
        #expect(reconcile.code == 0 && rows.count == 3, "\(reconcile.output)")
        #expect(
            rows.allSatisfy { $0["outcome"] == "agrees" || $0["outcome"] == "unsettled" }, "\(reconcile.output)")
        let adopted = h.cli(["trading", "reconcile", "BTCUSDT", "--adopt"])
        #expect(
            adopted.code == 0 && adopted.output.contains("BTC") && adopted.output.contains("compared"),
            "\(adopted.output)")
        #expect(h.cli(["trading", "reconcile", "--adopt", "BTCUSDT", "ETHUSDT"]).code == 2, "one symbol at most")
        #expect(throws: (any Error).self) { try h.call("trading.reconcile", ["symbol": "BTCUSDT", "adopt": "yes"]) }
        let log = h.cli(["logs", "--symbol", "BTCUSDT", "-n", "3"])
        #expect(
            log.code == 0 && !log.output.isEmpty
                && log.output.split(separator: "\n").allSatisfy { $0.contains("engine.BTCUSDT") })
        #expect(h.cli(["engines", "restart", "NOPEUSDT"]).code == 1)

        // One engine crashes; it is recovered and the others keep going.
        _ = try h.call("engines.inject_fault", ["symbol": "ETHUSDT", "fault": "crash"])
        #expect(
            waitUntil(15) {
                let eth = engines(h).first { $0["symbol"] == "ETHUSDT" }
                return eth?["status"] == "running" && eth?["restart_count"]?.intValue == 1
            })
        #expect(engines(h).filter { $0["symbol"] != "ETHUSDT" }.allSatisfy { $0["restart_count"] == 0 })

        // kill -9 the whole trading process: the daemon restarts it and every engine resumes from disk.
        let pid = try #require(h.pid("trading"))
        kill(pid, SIGKILL)
        #expect(waitUntil(20) { (h.pid("trading") ?? pid) != pid && engines(h).count == 3 })
        #expect(waitUntil(20) { engines(h).allSatisfy { $0["status"] == "running" } })
        _ = h.cli(["stop", "trading"])
        #expect(h.waitForState("trading", "stopped", timeout: 20))
        // After a clean stop, what the engines reported equals what the journals hold.
        let h2 = h
        for symbol in symbols {
            let state = try FileSystem.readString(h2.dir + "/data/state/\(symbol).json")
            let snapshot = try JSON.parse(state)
            #expect(
                snapshot["ledger"]?["trade_count"]?.intValue == journalFills(h2, symbol),
                "\(symbol): snapshot and journal disagree")
        }
        let registry = try JSON.parse(try FileSystem.readString(h.dir + "/data/engine_registry.json"))
        #expect(registry["engines"]?.objectValue?.count == 3)
    }
}

/// trading.yaml for tests that want trades soon: 0.2 s cycles, a 2/4 crossover, no loss
/// cooldown, no market-data cache, and exchange-sim at 600× on `port`.
func writeFastTradingConfig(_ h: Harness, symbols: [String], port: UInt16, heartbeatTimeout: Int = 10) throws {
    try FileSystem.writeAtomically(
        h.dir + "/config/trading.yaml",
        Array(
            """
            trading:
              symbols: [\(symbols.joined(separator: ", "))]
              engine_defaults:
                cycle_interval: 0.2
                heartbeat_timeout: \(heartbeatTimeout)
                strategy: {fast: 2, slow: 4}
                risk: {loss_cooldown: 0}
              exchange: {base_url: "http://127.0.0.1:\(port)", cache: {ticker: 0, klines: 0}}
              simulator: {port: \(port), speed: 600, history_bars: 20}
            """.utf8))
}
