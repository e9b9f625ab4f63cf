import ExchangeModel
import MarketData
import SuperBotTesting
import Synchronization
import Testing

@testable import Trading

/// Orders whose outcome is not known are settled with the exchange, never booked as rejected;
/// fills are identified by order and trade id, and must add up to what the order executed.
@Suite struct UnknownOutcomeTests {
    /// The in-memory exchange, with faults of the kinds the probe found.
    final class Faulty: ExchangeAPI {
        enum Fault { case none, loseReply, restartTradeIds, shortFills }
        let inner = FakeExchange(prices: wavePrices)
        let fault = Mutex(Fault.none)
        /// The next placement's fault only (then back to none).
        func once(_ f: Fault) { fault.withLock { $0 = f } }

        func tickerPrice(_ s: String) async throws -> Double { try await inner.tickerPrice(s) }
        func klines(_ s: String, interval: String, limit: Int) async throws -> [Bar] {
            try await inner.klines(s, interval: interval, limit: limit)
        }
        func symbolRules(_ s: String) async throws -> SymbolRules { try await inner.symbolRules(s) }
        func placeOrder(_ o: NewOrder) async throws -> OrderResult {
            var result = try await inner.placeOrder(o)
            switch fault.withLock({ f -> Fault in
                defer { f = .none }
                return f
            }) {
            case .none: return result
            case .loseReply: throw ExchangeError.unknownOutcome("\(o.clientOrderId): reply lost, retries ran out")
            case .restartTradeIds:
                // An exchange that restarted numbers its trades from 1 again.
                result.fills = result.fills.map {
                    var f = $0
                    f.tradeId = 1
                    return f
                }
                return result
            case .shortFills:
                result.fills = []
                return result
            }
        }
        func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult? {
            try await inner.queryOrder(symbol: symbol, clientOrderId: clientOrderId)
        }
        func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill] {
            try await inner.orderTrades(symbol: symbol, orderId: orderId)
        }
        func accountBalance(_ asset: String) async throws -> Double { try await inner.accountBalance(asset) }
        func depth(_ s: String, limit: Int) async throws -> OrderBook { try await inner.depth(s, limit: limit) }
    }

    /// The ledger the exchange's records imply.
    func truth(_ exchange: FakeExchange) -> Ledger {
        var l = Ledger(initialCash: 10_000)
        for o in exchange.executedOrders {
            for f in o.fills { l.apply(side: o.side, price: f.price, qty: f.qty, fee: f.commission) }
        }
        return l
    }

    /// Cycles until `condition` or the prices run out; errors are the engine's to ride out.
    func run(_ core: EngineCore, from: Int, while condition: () -> Bool) async -> Int {
        var i = from
        while condition() && i < wavePrices.count {
            i += 1
            _ = try? await core.cycle(now: 1000 + Double(i))
        }
        return i
    }

    @Test func aLostReplyStaysOpenAndIsSettledNotRejected() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let exchange = Faulty()
        let core = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1000)
        exchange.once(.loseReply)
        var i = await run(core, from: 0) { exchange.inner.placed == 0 }
        #expect(exchange.inner.placed == 1, "the order executed at the exchange")
        #expect(core.pending != nil, "its outcome is unknown: the intent stays open")
        let journal = try TradeJournal(path: dir + "/trades/BTCUSDT.jsonl").load()
        #expect(!journal.contains { if case .done = $0 { true } else { false } }, "nothing was booked as rejected")
        i = await run(core, from: i) { core.pending != nil }
        #expect(core.pending == nil)
        #expect(exchange.inner.placed == 1, "no second order while the first was unsettled")
        #expect(core.ledger.position == truth(exchange.inner).position && core.ledger.tradeCount == 1)
    }

    @Test func fillsWithRepeatedTradeIdsFromARestartedExchangeAreAllBooked() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let exchange = Faulty()
        let core = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1000)
        var i = 0
        var placed = 0
        // Every order's fill carries trade id 1, as after simulator restarts.
        while placed < 3 && i < wavePrices.count {
            exchange.once(.restartTradeIds)
            i = await run(core, from: i) { exchange.inner.placed == placed }
            placed = exchange.inner.placed
        }
        #expect(placed >= 2)
        let fills = try TradeJournal(path: dir + "/trades/BTCUSDT.jsonl").load().filter {
            if case .fill = $0 { true } else { false }
        }
        #expect(fills.count == placed, "one fill line per executed order")
        #expect(core.ledger.tradeCount == placed)
        // A restart replays the same journal to the same books.
        let recovered = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await recovered.recover(now: 5000)
        #expect(recovered.ledger.tradeCount == placed && recovered.ledger.position == core.ledger.position)
    }

    @Test func anOrderWhoseFillsDoNotAddUpStaysOpenUntilTheTradesAreFetched() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let exchange = Faulty()
        let core = EngineCore(settings: engineSettings(), exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1000)
        exchange.once(.shortFills)
        var i = await run(core, from: 0) { exchange.inner.placed == 0 }
        #expect(core.pending != nil, "FILLED without its fills is not closed")
        #expect(core.ledger.tradeCount == 0)
        i = await run(core, from: i) { core.pending != nil }
        #expect(core.pending == nil && core.ledger.tradeCount == 1)
        #expect(core.ledger.position == truth(exchange.inner).position)
    }
}

/// The books are compared with the account; a difference pauses entries until they agree again.
@Suite struct ReconciliationTests {
    @Test func aDifferenceWithTheAccountPausesEntriesUntilTheBooksAgree() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let exchange = FakeExchange(prices: wavePrices)
        var settings = engineSettings()
        settings.reconcile.interval = 3600
        let core = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1000)
        let first = try await core.cycle(now: 1001)
        #expect(first.reconciliation?.outcome == .agrees, "the first cycle checks the books")
        // Someone else trades this asset in the account: the books no longer explain it.
        _ = try await exchange.placeOrder(
            NewOrder(symbol: "BTCUSDT", side: .buy, quantity: 0.25, clientOrderId: "manual-1"))
        core.reconcileRequested = true
        let second = try await core.cycle(now: 1002)
        #expect(second.reconciliation?.outcome == .differs)
        #expect(abs((second.reconciliation?.difference ?? 0) - 0.25) < 1e-9)
        #expect(core.reconcilePause != nil && second.paused != nil)
        // No entries while paused, whatever the strategy says.
        let placed = exchange.placed
        for i in 0..<20 { _ = try await core.cycle(now: 1003 + Double(i)) }
        #expect(!exchange.executedOrders.dropFirst(placed).contains { $0.side == .buy })
        // The outside trade is undone; the next check agrees and lifts the pause.
        _ = try await exchange.placeOrder(
            NewOrder(symbol: "BTCUSDT", side: .sell, quantity: 0.25, clientOrderId: "manual-2"))
        core.reconcileRequested = true
        let third = try await core.cycle(now: 1100)
        #expect(third.reconciliation?.outcome == .agrees)
        #expect(core.reconcilePause == nil)
    }
}
