import ExchangeModel
import SuperBotTesting
import Testing
import TradingSettings

@testable import Trading

/// A pause stops entries, never exits; the stop-loss cuts a position the strategy still holds.
@Suite struct PauseAndStopLossTests {
    /// Flat, a rise that makes the SMA crossover buy, then a fall far below the entry.
    static let rallyThenCrash: [Double] =
        Array(repeating: 100, count: 6) + [101, 103, 106, 110] + Array(repeating: 80, count: 12)

    func run(_ settings: TradingConfig.Engine, _ dir: String) async throws -> (EngineCore, [CycleReport]) {
        let exchange = FakeExchange(prices: Self.rallyThenCrash)
        let core = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await core.recover(now: 1000)
        var reports: [CycleReport] = []
        for i in 0..<Self.rallyThenCrash.count { reports.append(try await core.cycle(now: 1000 + Double(i))) }
        return (core, reports)
    }

    @Test func theStopLossExitsWhileTheDailyLossPausesEntries() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        var settings = engineSettings()
        settings.risk.dailyLossLimit = 1
        settings.risk.stopLoss = 0.05
        let (core, reports) = try await run(settings, dir)
        #expect(reports.contains { $0.order?.side == .buy }, "the rally should have bought")
        let crashIndex = Self.rallyThenCrash.firstIndex(of: 80)!
        #expect(reports[crashIndex...].contains { $0.paused != nil }, "the loss should have paused the engine")
        let exit = try #require(reports.first { $0.order?.side == .sell })
        #expect(exit.decision?.hasPrefix("allowed (stop-loss") == true, "\(exit.decision ?? "-")")
        #expect(core.ledger.position == 0, "a paused engine must not keep a losing position")
        // And no new entry while paused.
        let afterExit = reports.drop { $0.order?.side != .sell }.dropFirst()
        #expect(!afterExit.contains { $0.order?.side == .buy })
    }

    @Test func withoutAStopLossTheLoserIsHeldUntilTheStrategyExits() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        var settings = engineSettings()
        settings.risk.stopLoss = 0
        let (core, reports) = try await run(settings, dir)
        // The crash still ends in the strategy's own exit crossover, a plain "allowed" sell.
        let exit = try #require(reports.first { $0.order?.side == .sell })
        #expect(exit.decision == "allowed", "only a strategy exit, never a stop-loss, when it is off")
        #expect(!reports.contains { $0.decision?.contains("stop-loss") == true })
        #expect(core.ledger.position == 0)
    }
}

/// A crossover that passes while the engine is down is acted on when it comes back.
@Suite struct StanceAfterRestartTests {
    @Test func aLongTheStrategyNoLongerWantsIsClosedAfterARestart() async throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        var settings = engineSettings()
        settings.risk.stopLoss = 0
        // A rally (the engine buys), then a slow slide the engine sleeps through.
        let prices = Array(repeating: 100.0, count: 6) + [101, 103, 106, 110] + (1...12).map { 110 - Double($0) * 0.3 }
        let exchange = FakeExchange(prices: prices)
        let first = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await first.recover(now: 1000)
        var i = 0.0
        while first.ledger.position == 0 && i < 12 {
            i += 1
            _ = try await first.cycle(now: 1000 + i)
        }
        #expect(first.ledger.position > 0, "the rally should have bought")
        // The engine is down while the slide crosses the averages: the prices pass unseen.
        for _ in 0..<8 { _ = try await exchange.tickerPrice("BTCUSDT") }

        let restarted = EngineCore(settings: settings, exchange: exchange, dataDirectory: dir)
        try await restarted.recover(now: 2000)
        try await restarted.warmUp()
        #expect(restarted.strategy.wantsLong == false)
        let report = try await restarted.cycle(now: 2001)
        #expect(report.order?.side == .sell, "\(report.decision ?? "no decision")")
        #expect(report.decision?.contains("no longer wants this long") == true)
        #expect(restarted.ledger.position == 0)
    }
}
