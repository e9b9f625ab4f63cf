import Dispatch
import ExchangeModel
import HTTP
import JSON
import SuperBotTesting
import SystemKit
import Testing
import TradingSettings

@testable import ExchangeConnector
@testable import Trading

/// The fault matrix: three engines trade against a real exchange-sim through lost replies,
/// 5xx, dropped connections, garbage, latency past the client's timeout, a simulator `kill -9`
/// mid-trading and everything at once, each for a bounded time. Afterwards, for every symbol,
/// the exchange's trades, the journal's fills and the ledger agree to the cent, and no client
/// order id was used twice. `SUPERBOT_FAULT_SECONDS` sets each phase's length (3 s in
/// `make test`; the benchmark runs it longer and reports the figures).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct FaultMatrixTests {
    static let phases: [(name: String, faults: String?)] = [
        ("lost replies", "lose_reply_rate=0.5"),
        ("5xx errors", "error_rate=0.3"),
        ("dropped connections", "drop_rate=0.3"),
        ("garbage replies", "garbage_rate=0.3"),
        ("latency past the timeout", "latency_ms=200&latency_jitter_ms=1000"),
        ("simulator kill -9", nil),
        ("everything at once", "lose_reply_rate=0.2&error_rate=0.1&drop_rate=0.1&garbage_rate=0.1&latency_ms=100"),
    ]
    static let off = "lose_reply_rate=0&error_rate=0&drop_rate=0&garbage_rate=0&latency_ms=0&latency_jitter_ms=0"

    @Test func afterEveryFaultTheExchangeTheJournalAndTheLedgerAgree() async throws {
        let seconds = Double(Environment.get("SUPERBOT_FAULT_SECONDS") ?? "") ?? 3
        let symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        // Fees in the asset received: the harder path (buys pay in the base asset).
        let sim = try SimProcess(
            symbols: symbols.joined(separator: ","), simulator: "speed: 600, history_bars: 50, fee_asset: received")
        let client = try sim.client {
            $0.tickerTTL = 0
            $0.klinesTTL = 0
            $0.accountTTL = 0
            $0.maxAttempts = 3
            $0.timeout = 1
        }
        defer { client.shutdown() }
        let config = try TradingConfig.parse(
            """
            trading:
              symbols: [\(symbols.joined(separator: ", "))]
              engine_defaults: {strategy: {fast: 2, slow: 4}, order_notional: 400, risk: {loss_cooldown: 0}}
            """, file: "trading.yaml", baseDirectory: sim.dir)
        let dataDirectory = sim.dir + "/engines"
        var cores: [EngineCore] = []
        for settings in config.engines {
            let core = EngineCore(settings: settings, exchange: client, dataDirectory: dataDirectory)
            while (try? await core.recover(now: Clock.wall())) == nil { try await Task.sleep(for: .milliseconds(50)) }
            cores.append(core)
        }
        // A connection per change: the simulator's restart closes any older one.
        func setFaults(_ query: String) throws {
            let control = try HTTPTestClient(port: sim.port)
            let body = FaultMatrixTests.off + (query.isEmpty ? "" : "&" + query)
            try control.send("POST /sim/faults HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(try control.next()?.status == 200)
        }
        func runCycles(for duration: Double) async -> (cycles: Int, unknown: Int) {
            var (cycles, unknown) = (0, 0)
            let end = Clock.monotonic() + duration
            while Clock.monotonic() < end {
                for core in cores {
                    cycles += 1
                    do { _ = try await core.cycle(now: Clock.wall()) } catch ExchangeError.unknownOutcome {
                        unknown += 1
                    } catch {}
                }
                try? await Task.sleep(for: .milliseconds(30))
            }
            return (cycles, unknown)
        }

        var lines: [String] = []
        for phase in FaultMatrixTests.phases {
            let intentsBefore = try intents(symbols, dataDirectory).count
            let result: (cycles: Int, unknown: Int)
            if let faults = phase.faults {
                try setFaults(faults)
                result = await runCycles(for: seconds)
            } else {
                // Killed from another thread while the engines are mid-request, restarted 0.3 s later.
                let restarted = DispatchSemaphore(value: 0)
                let killer = SimKiller(sim)
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds / 3) {
                    killer.killAndRestart(after: 0.3)
                    restarted.signal()
                }
                result = await runCycles(for: seconds)
                restarted.wait()
                #expect(killer.error == nil, "the simulator did not come back: \(killer.error ?? "")")
            }
            let sent = try intents(symbols, dataDirectory).count - intentsBefore
            let paused = cores.compactMap { c in (c.pausedReason ?? c.reconcilePause).map { "\(c.symbol) \($0)" } }
            lines.append(
                "\(phase.name): \(sent) orders, \(result.unknown) unknown outcomes settled later"
                    + (paused.isEmpty ? "" : "; paused: \(paused.joined(separator: "; "))"))
        }
        try setFaults("")
        // Faults off: whatever is open is settled with the exchange, never guessed.
        var tries = 0
        while cores.contains(where: { $0.pending != nil }) && tries < 200 {
            tries += 1
            for core in cores where core.pending != nil { _ = try? await core.cycle(now: Clock.wall()) }
        }
        #expect(cores.allSatisfy { $0.pending == nil }, "orders still unsettled")

        let account = try await client.balances()
        var mismatches = 0
        var fills = 0
        var usdtBooked = 0.0
        for core in cores {
            let symbol = core.symbol
            let base = core.settings.baseAsset
            let journal = try TradeJournal(path: "\(dataDirectory)/trades/\(symbol).jsonl").load()
            let journaled = journalFills(journal)
            let exchange = try await exchangeTrades(client, symbol)
            fills += journaled.count
            var agrees = true
            if journaled != exchange {
                agrees = false
                Issue.record(
                    "\(symbol): exchange trades \(exchange.count), journal fills \(journaled.count): \(exchange.symmetricDifference(journaled))"
                )
            }
            // The ledger a fresh replay of the journal builds equals the live one.
            let replay = EngineCore(
                settings: core.settings, exchange: client, journal: MemoryJournal(journal), snapshotPath: nil)
            try await replay.recover(now: Clock.wall())
            for (what, live, replayed) in [
                ("position", core.ledger.position, replay.ledger.position),
                ("cash", core.ledger.cash, replay.ledger.cash),
                ("fees", core.ledger.fees, replay.ledger.fees),
            ] where abs(live - replayed) > 0.005 {
                agrees = false
                Issue.record("\(symbol): live \(what) \(live), replayed \(replayed)")
            }
            // The ledger against the exchange's own trades and account.
            let truth = exchange.reduce(into: (position: 0.0, cash: 0.0)) { t, trade in
                let baseFee = trade.feeAsset == base ? trade.fee : 0
                let quoteFee = trade.feeAsset == base ? 0 : trade.fee
                if trade.isBuyer {
                    t.position += trade.qty - baseFee
                    t.cash -= trade.price * trade.qty + quoteFee
                } else {
                    t.position -= trade.qty + baseFee
                    t.cash += trade.price * trade.qty - quoteFee
                }
            }
            let held = (account[base]?.free ?? 0) + (account[base]?.locked ?? 0)
            if abs(truth.position - core.ledger.position) > 1e-9 || abs(held - core.ledger.position) > 1e-9
                || abs(truth.cash - (core.ledger.cash - core.ledger.initialCash)) > 0.005
            {
                agrees = false
                Issue.record(
                    "\(symbol): books \(core.ledger.position) \(base) and cash \(core.ledger.cash - core.ledger.initialCash); trades imply \(truth.position) and \(truth.cash); the account holds \(held)"
                )
            }
            usdtBooked += core.ledger.cash - core.ledger.initialCash
            let ids = try intents([symbol], dataDirectory)
            #expect(Set(ids).count == ids.count, "\(symbol): a client order id was used twice")
            if !agrees { mismatches += 1 }
        }
        let usdt = (account["USDT"]?.free ?? 0) + (account["USDT"]?.locked ?? 0)
        #expect(abs((usdt - 1_000_000) - usdtBooked) < 0.005, "USDT: account \(usdt - 1_000_000), books \(usdtBooked)")
        let orders = try intents(symbols, dataDirectory).count
        #expect(orders >= 10, "the engines should have traded through the matrix (\(orders) orders)")
        #expect(mismatches == 0)
        for line in lines { print("fault matrix: \(line)") }
        print(
            "fault matrix: total \(orders) orders, \(fills) fills, \(mismatches) mismatches (\(symbols.count) symbols, \(Int(seconds)) s per phase)"
        )
    }

    /// One execution as both sides record it.
    struct Trade: Hashable {
        let orderId: Int64
        let tradeId: Int64
        let price: Double
        let qty: Double
        let fee: Double
        let feeAsset: String
        let isBuyer: Bool
    }

    func journalFills(_ entries: [JournalEntry]) -> Set<Trade> {
        Set(
            entries.compactMap {
                guard case .fill(_, _, _, let orderId, let f, let side) = $0 else { return nil }
                return Trade(
                    orderId: orderId, tradeId: f.tradeId, price: f.price, qty: f.qty, fee: f.commission,
                    feeAsset: f.commissionAsset, isBuyer: side == .buy)
            })
    }

    func exchangeTrades(_ client: ExchangeClient, _ symbol: String) async throws -> Set<Trade> {
        let rows = try await client.request(
            "GET", "/api/v3/myTrades",
            [("symbol", symbol), ("limit", "1000"), ("timestamp", String(Int64(Clock.wall() * 1000)))], weight: 20)
        var trades = Set<Trade>()
        for row in try #require(rows.arrayValue) {
            func decimal(_ key: String) -> Double { Double(row[key]?.stringValue ?? "") ?? .nan }
            trades.insert(
                Trade(
                    orderId: row["orderId"]?.int64Value ?? -1, tradeId: row["id"]?.int64Value ?? -1,
                    price: decimal("price"), qty: decimal("qty"), fee: decimal("commission"),
                    feeAsset: row["commissionAsset"]?.stringValue ?? "", isBuyer: row["isBuyer"]?.boolValue ?? false))
        }
        return trades
    }

    /// The client order ids every intent used, in journal order.
    func intents(_ symbols: [String], _ dataDirectory: String) throws -> [String] {
        try symbols.flatMap { symbol in
            try TradeJournal(path: "\(dataDirectory)/trades/\(symbol).jsonl").load().compactMap {
                if case .intent(_, _, let id, _, _) = $0 { id } else { nil }
            }
        }
    }
}

/// Kills the simulator from another thread and starts it again on the same port and state file.
final class SimKiller: @unchecked Sendable {
    let sim: SimProcess
    private(set) var error: String?
    init(_ sim: SimProcess) { self.sim = sim }

    func killAndRestart(after delay: Double) {
        sim.kill()
        Clock.sleep(delay)
        do { try sim.start() } catch { self.error = "\(error)" }
    }
}
