import ExchangeModel
import Glibc
import MarketData
import SuperBotTesting
import Testing

@testable import Trading

/// Client order ids never repeat across engine incarnations (a journal moved aside starts anew).
@Suite struct ClientOrderIdTests {
    func firstIntent(_ dir: String, _ symbol: String = "BTCUSDT") throws -> String? {
        try TradeJournal(path: "\(dir)/trades/\(symbol).jsonl").load().compactMap { entry -> String? in
            if case .intent(_, _, let id, _, _) = entry { return id }
            return nil
        }.first
    }

    func tradeOnce(_ dir: String, start: Double, symbol: String = "BTCUSDT") async throws {
        let exchange = FakeExchange(prices: wavePrices)
        let core = EngineCore(settings: engineSettings(symbol), exchange: exchange, dataDirectory: dir)
        try await core.recover(now: start)
        var i = 0.0
        while exchange.placed == 0 && i < Double(wavePrices.count) {
            i += 1
            _ = try await core.cycle(now: start + i)
        }
    }

    @Test func aJournalMovedAsideNeverReusesAnId() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        try await tradeOnce(dir, start: 1_800_000_000)
        let first = try #require(try firstIntent(dir))
        #expect(first.hasPrefix("sb-BTCUSDT-") && first.split(separator: "-").count == 4)
        // What the corrupt-journal message suggests: move it aside and start afresh.
        rename("\(dir)/trades/BTCUSDT.jsonl", "\(dir)/trades/BTCUSDT.jsonl.corrupt")
        unlink("\(dir)/state/BTCUSDT.json")
        try await tradeOnce(dir, start: 1_800_000_100)
        let second = try #require(try firstIntent(dir))
        // Same sequence number in the new journal, yet a different id.
        #expect(second.split(separator: "-").last == first.split(separator: "-").last)
        #expect(second != first, "\(second) repeats \(first)")
        // The same journal keeps its epoch across restarts: an intent is settled under its own id.
        let recovered = EngineCore(
            settings: engineSettings(), exchange: FakeExchange(prices: wavePrices), dataDirectory: dir)
        try await recovered.recover(now: 1_800_000_200)
        #expect(recovered.pending == nil)
    }

    /// An exchange whose order under the engine's client id is an hour older than the intent:
    /// returned as a placement's reply (a duplicate the connector resolved) or found when
    /// settling a lost reply.
    final class Colliding: ExchangeAPI {
        let inner = FakeExchange(prices: wavePrices)
        let loseReply: Bool
        let start: Double
        init(loseReply: Bool, start: Double) {
            self.loseReply = loseReply
            self.start = start
        }
        func old(_ id: String) -> OrderResult {
            OrderResult(
                symbol: "BTCUSDT", orderId: 9, clientOrderId: id, side: .buy, status: "FILLED", executedQty: 1,
                fills: [Fill(tradeId: 7, price: 50, qty: 1, commission: 0, commissionAsset: "USDT")],
                time: Int64((start - 3600) * 1000))
        }
        func tickerPrice(_ s: String) async throws -> Double { try await inner.tickerPrice(s) }
        func klines(_ s: String, interval: String, limit: Int) async throws -> [Bar] {
            try await inner.klines(s, interval: interval, limit: limit)
        }
        func symbolRules(_ s: String) async throws -> SymbolRules { try await inner.symbolRules(s) }
        func placeOrder(_ o: NewOrder) async throws -> OrderResult {
            if loseReply { throw ExchangeError.unknownOutcome("\(o.clientOrderId): reply lost") }
            return old(o.clientOrderId)
        }
        func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult? { old(clientOrderId) }
        func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill] { old("").fills }
        func accountBalance(_ asset: String) async throws -> Double { 0 }
        func depth(_ s: String, limit: Int) async throws -> OrderBook { try await inner.depth(s, limit: limit) }
        func accountTrades(_ s: String, fromId: Int64, limit: Int) async throws -> [AccountTrade] { [] }
    }

    @Test(arguments: [false, true])
    func anOrderOlderThanTheIntentIsNeverTakenForIt(loseReply: Bool) async throws {
        let start = 1_800_000_000.0
        let core = EngineCore(
            settings: engineSettings(), exchange: Colliding(loseReply: loseReply, start: start),
            journal: MemoryJournal(), snapshotPath: nil)
        try await core.recover(now: start)
        var errors: [String] = []
        var i = 0.0
        while !errors.contains(where: { $0.contains("never placed") }) && i < Double(wavePrices.count) {
            i += 1
            do { _ = try await core.cycle(now: start + i) } catch { errors.append("\(error)") }
        }
        #expect(errors.contains { $0.contains("never placed") }, "\(errors)")
        #expect(core.pending == nil)
        #expect(core.ledger.tradeCount == 0 && core.ledger.position == 0 && core.ledger.cash == 10_000)
        let closed = try core.journal.load().filter { if case .done(_, _, _, "COLLIDED") = $0 { true } else { false } }
        #expect(closed.count == 1)
    }

    @Test func idsFitBinancesThirtySixCharacters() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let symbol = "ABCDEFGHIJKLMNOPUSDT"
        try await tradeOnce(dir, start: 1_800_000_000, symbol: symbol)
        let id = try #require(try firstIntent(dir, symbol))
        #expect(id.count <= 36, "\(id)")
        #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
    }
}

/// The day's baseline and the pause live in the journal too: losing the snapshot loses neither.
@Suite struct DayBaselineTests {
    @Test func thePauseAndTheBaselineSurviveALostSnapshot() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        var settings = engineSettings()
        settings.risk.dailyLossLimit = 1
        settings.risk.stopLoss = 0
        let prices = PauseAndStopLossTests.rallyThenCrash
        let exchange = FakeExchange(prices: prices)
        let core = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1_800_000_000)
        for i in 0..<prices.count - 2 { _ = try await core.cycle(now: 1_800_000_001 + Double(i)) }
        let paused = try #require(core.pausedReason, "the crash below the entry should have paused entries")
        let baseline = core.ledger.dayStartEquity
        unlink("\(dir)/state/BTCUSDT.json")
        let rebuilt = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await rebuilt.recover(now: 1_800_000_100)
        #expect(rebuilt.pausedReason == paused)
        #expect(rebuilt.ledger.dayStartEquity == baseline)
        #expect(rebuilt.ledger.lastPrice == prices.last, "marked at a fresh price, not at the first fill's")
    }
}
