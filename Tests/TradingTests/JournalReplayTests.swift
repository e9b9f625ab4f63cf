import ExchangeConnector
import ExchangeModel
import Glibc
import JSON
import MarketData
import SuperBotTesting
import SystemKit
import Testing

@testable import Trading

struct SimulatedCrash: Error {}

@Suite struct JournalReplayTests {
    /// The ledger the exchange's own records imply: every fill it executed, in order.
    func truth(_ exchange: FakeExchange) -> Ledger {
        var l = Ledger(initialCash: 10_000)
        let orders = exchange.executedOrders
        for o in orders { for f in o.fills { l.apply(side: o.side, price: f.price, qty: f.qty, fee: f.commission) } }
        return l
    }

    func sameMoney(_ a: Ledger, _ b: Ledger) -> Bool {
        abs(a.cash - b.cash) < 1e-9 && abs(a.position - b.position) < 1e-12 && abs(a.realizedPnL - b.realizedPnL) < 1e-9
            && abs(a.fees - b.fees) < 1e-9 && a.tradeCount == b.tradeCount
            && abs(a.averagePrice - b.averagePrice) < 1e-9
    }

    /// Crash on the second order's cycle at `step`; a new engine on the same files must end up
    /// exactly where the exchange's records say, without sending the order again.
    @Test(arguments: CycleStep.allCases)
    func crashAtEveryStepReplaysExactly(step: CycleStep) async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let exchange = FakeExchange(prices: wavePrices)
        let core = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1000)
        nonisolated(unsafe) var crashed = false
        core.crashHook = { s in
            if s == step && core.ledger.tradeCount >= 1 && !crashed {
                crashed = true
                throw SimulatedCrash()
            }
        }
        var cycles = 0
        while !crashed && cycles < wavePrices.count {
            cycles += 1
            do { _ = try await core.cycle(now: 1000 + Double(cycles)) } catch is SimulatedCrash {}
        }
        #expect(crashed, "the crash at \(step) never happened")
        let placedAtCrash = exchange.placed

        let recovered = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await recovered.recover(now: 2000)
        #expect(exchange.placed == placedAtCrash, "recovery must not send an order again")
        #expect(recovered.pending == nil)
        #expect(
            sameMoney(recovered.ledger, truth(exchange)),
            "after a crash at \(step): \(recovered.ledger) vs \(truth(exchange))")
        if [.fillJournaled, .done, .snapshot].contains(step) {
            #expect(sameMoney(recovered.ledger, core.ledger))
        }
        // And once more from the files the recovery left: nothing is counted twice.
        let again = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await again.recover(now: 3000)
        #expect(sameMoney(again.ledger, recovered.ledger))
        #expect(exchange.placed == placedAtCrash)
    }

    @Test func tornLastLineIsCutAndIgnored() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let exchange = FakeExchange(prices: wavePrices)
        let core = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 0)
        for i in 0..<12 { _ = try await core.cycle(now: Double(i)) }
        #expect(core.ledger.tradeCount >= 2)
        let path = dir + "/trades/BTCUSDT.jsonl"
        let before = try FileSystem.readFile(path)
        let fd = open(path, O_WRONLY | O_APPEND)
        try FileSystem.writeAll(fd, Array("{\"seq\":999,\"type\":\"fill\",\"client_or".utf8))
        close(fd)
        unlink(dir + "/state/BTCUSDT.json")  // the journal alone must rebuild the state
        let recovered = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await recovered.recover(now: 100)
        #expect(sameMoney(recovered.ledger, core.ledger))
        #expect(try FileSystem.readFile(path) == before)
    }

    @Test func corruptCompleteLineIsAnErrorNotAGuess() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        try FileSystem.makeDirectories(dir + "/trades")
        try FileSystem.writeAtomically(
            dir + "/trades/BTCUSDT.jsonl", Array("{\"seq\":1,\"type\":\"intent\"}\nnot json\n".utf8))
        let core = EngineCore(settings: engineSettings(), exchange: FakeExchange(prices: [100]), dataDirectory: dir)
        await #expect(throws: SystemError.self) { try await core.recover(now: 0) }
    }

    @Test func refusedOrderClosesItsIntent() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        final class Refusing: ExchangeAPI {
            let inner = FakeExchange(prices: wavePrices)
            func tickerPrice(_ s: String) async throws -> Double { try await inner.tickerPrice(s) }
            func klines(_ s: String, interval: String, limit: Int) async throws -> [Bar] {
                try await inner.klines(s, interval: interval, limit: limit)
            }
            func symbolRules(_ s: String) async throws -> SymbolRules { try await inner.symbolRules(s) }
            func placeOrder(_ o: NewOrder) async throws -> OrderResult {
                throw ExchangeError.rejected(
                    status: 400, code: -2010, message: "Account has insufficient balance for requested action.")
            }
            func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult? { nil }
            func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill] { [] }
            func accountBalance(_ asset: String) async throws -> Double { try await inner.accountBalance(asset) }
            func depth(_ s: String, limit: Int) async throws -> OrderBook { try await inner.depth(s, limit: limit) }
            func accountTrades(_ s: String, fromId: Int64, limit: Int) async throws -> [AccountTrade] { [] }
        }
        let core = EngineCore(settings: engineSettings(), exchange: Refusing(), dataDirectory: dir)
        try await core.recover(now: 0)
        var errors = 0
        for i in 0..<10 {
            do { _ = try await core.cycle(now: Double(i)) } catch let e as ExchangeError {
                errors += 1
                #expect(!e.isTransient)
            }
        }
        #expect(errors >= 1)
        #expect(core.pending == nil)
        #expect(core.ledger.tradeCount == 0)
        let entries = try TradeJournal(path: dir + "/trades/BTCUSDT.jsonl").load()
        #expect(entries.contains { if case .done(_, _, _, "REJECTED") = $0 { true } else { false } })
    }
}
