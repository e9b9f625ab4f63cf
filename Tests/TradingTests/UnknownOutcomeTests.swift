import ExchangeModel
import Glibc
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
        func accountTrades(_ s: String, fromId: Int64, limit: Int) async throws -> [AccountTrade] {
            try await inner.accountTrades(s, fromId: fromId, limit: limit)
        }
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

/// The books are compared with the exchange (the position with the account, the journal's fills
/// with the account's trades); a difference pauses entries until they agree, or is adopted.
@Suite struct ReconciliationTests {
    @Test func aDifferenceWithTheExchangePausesEntriesUntilAdoptedOrAgreed() async throws {
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
        #expect(second.reconciliation?.tradeDifferences.count == 1)
        #expect(second.reconciliation?.tradeDifferences.first?.contains("is not in the journal") == true)
        #expect(core.reconcilePause != nil && second.paused != nil)
        // No entries while paused, whatever the strategy says.
        let placed = exchange.placed
        for i in 0..<20 { _ = try await core.cycle(now: 1003 + Double(i)) }
        #expect(!exchange.executedOrders.dropFirst(placed).contains { $0.side == .buy })
        // The outside trade is undone: the balance agrees again, but two trades the journal
        // cannot explain remain, so the pause stays.
        _ = try await exchange.placeOrder(
            NewOrder(symbol: "BTCUSDT", side: .sell, quantity: 0.25, clientOrderId: "manual-2"))
        core.reconcileRequested = true
        let third = try await core.cycle(now: 1100)
        #expect(third.reconciliation?.outcome == .differs)
        #expect(third.reconciliation?.difference.map { abs($0) < 1e-9 } == true)
        #expect(third.reconciliation?.tradeDifferences.count == 2)
        #expect(core.reconcilePause?.contains("2 trades differ") == true, "\(core.reconcilePause ?? "not paused")")
        // The operator adopts the exchange's view once: both trades are booked as they executed.
        core.reconcileRequested = true
        core.adoptRequested = true
        let fourth = try await core.cycle(now: 1101)
        #expect(fourth.reconciliation?.adopted.count == 2)
        #expect(core.reconcilePause == nil)
        let implied = UnknownOutcomeTests().truth(exchange)
        #expect(abs(core.ledger.position - implied.position) < 1e-12)
        #expect(abs(core.ledger.cash - implied.cash) < 1e-9)
        #expect(abs(core.ledger.fees - implied.fees) < 1e-9)
        core.reconcileRequested = true
        let fifth = try await core.cycle(now: 1102)
        #expect(fifth.reconciliation?.outcome == .agrees)
        // A restart replays the adopted fills and resumes the trade check where it was.
        let restarted = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await restarted.recover(now: 1103)
        #expect(abs(restarted.ledger.cash - core.ledger.cash) < 1e-9)
        #expect(restarted.tradesCheckedThrough == core.tradesCheckedThrough && core.tradesCheckedThrough > 0)
    }

    /// An exchange that renumbered its trades: the journal's fill is not among the exchange's
    /// trades and the exchange's is not in the journal, though the position agrees.
    @Test func fillsTheExchangeDoesNotListAreADifference() async throws {
        let exchange = UnknownOutcomeTests.Faulty()
        var settings = engineSettings()
        settings.reconcile.interval = 3600
        let core = EngineCore(settings: settings, exchange: exchange, journal: MemoryJournal(), snapshotPath: nil)
        try await core.recover(now: 1000)
        var i = 0
        for trades in 1...2 {
            // The second placement's reply renumbers its fill 1; the exchange lists its real id.
            if trades == 2 { exchange.once(.restartTradeIds) }
            while core.ledger.tradeCount < trades && i < wavePrices.count {
                i += 1
                _ = try? await core.cycle(now: 1000 + Double(i))
            }
        }
        #expect(core.ledger.tradeCount == 2)
        core.reconcileRequested = true
        let report = try await core.cycle(now: 2000)
        let r = try #require(report.reconciliation)
        #expect(r.difference.map { abs($0) < 1e-12 } == true, "the position agrees")
        #expect(r.outcome == .differs)
        #expect(
            r.tradeDifferences.contains { $0.contains("is not among the exchange's trades") }, "\(r.tradeDifferences)")
        #expect(r.tradeDifferences.contains { $0.contains("is not in the journal") })
    }

    /// `adopt_exchange`: a balance no trade explains is booked as an adjustment at the last
    /// price, journaled, and replayed after a restart.
    @Test func adoptExchangeAdjustsAPositionNoTradeExplains() async throws {
        final class Gifted: ExchangeAPI {
            let inner = FakeExchange(prices: wavePrices)
            func tickerPrice(_ s: String) async throws -> Double { try await inner.tickerPrice(s) }
            func klines(_ s: String, interval: String, limit: Int) async throws -> [Bar] {
                try await inner.klines(s, interval: interval, limit: limit)
            }
            func symbolRules(_ s: String) async throws -> SymbolRules { try await inner.symbolRules(s) }
            func placeOrder(_ o: NewOrder) async throws -> OrderResult { try await inner.placeOrder(o) }
            func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult? {
                try await inner.queryOrder(symbol: symbol, clientOrderId: clientOrderId)
            }
            func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill] {
                try await inner.orderTrades(symbol: symbol, orderId: orderId)
            }
            /// A deposit of 0.1 BTC: in the balance, in no trade.
            func accountBalance(_ asset: String) async throws -> Double { try await inner.accountBalance(asset) + 0.1 }
            func depth(_ s: String, limit: Int) async throws -> OrderBook { try await inner.depth(s, limit: limit) }
            func accountTrades(_ s: String, fromId: Int64, limit: Int) async throws -> [AccountTrade] {
                try await inner.accountTrades(s, fromId: fromId, limit: limit)
            }
        }
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        var settings = engineSettings()
        settings.reconcile.onMismatch = "adopt_exchange"
        let exchange = Gifted()
        let core = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1000)
        let report = try await core.cycle(now: 1001)
        let r = try #require(report.reconciliation)
        #expect(r.outcome == .differs && r.adopted.count == 1, "\(r)")
        #expect(core.reconcilePause == nil, "adopting never pauses")
        #expect(abs(core.ledger.position - 0.1) < 1e-12)
        #expect(abs(core.ledger.cash - (10_000 - 0.1 * core.ledger.lastPrice)) < 1e-9)
        #expect(core.ledger.tradeCount == 0, "an adjustment is not a trade")
        let adjustments = try TradeJournal(path: dir + "/trades/BTCUSDT.jsonl").load().filter {
            if case .adjust = $0 { true } else { false }
        }
        #expect(adjustments.count == 1)
        // Replayed from the journal alone, the adjustment is still there.
        unlink(dir + "/state/BTCUSDT.json")
        let restarted = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await restarted.recover(now: 1002)
        #expect(abs(restarted.ledger.position - 0.1) < 1e-12)
        #expect(abs(restarted.ledger.cash - core.ledger.cash) < 1e-9)
        core.reconcileRequested = true
        #expect(try await core.cycle(now: 1003).reconciliation?.outcome == .agrees)
    }
}
