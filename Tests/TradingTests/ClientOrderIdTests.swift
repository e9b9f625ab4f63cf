import ExchangeModel
import Glibc
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
