import Backtest
import ExchangeModel
import MarketData
import SuperBotTesting
import Synchronization
import SystemKit
import Testing
import TradingSettings

@testable import Trading

/// Live and backtest see the same series: closed bars of the strategy's interval.
@Suite struct SameBarsTests {
    /// Reveals a fixed list of bars one at a time, each followed by a forming bar, as an exchange
    /// would over the minutes; the ticker is the forming bar's price (intra-bar noise on top).
    final class BarFeed: ExchangeAPI {
        let bars: [Bar]
        let revealed = Mutex(0)
        let held = Mutex(0.0)
        let trades = Mutex<[AccountTrade]>([])
        init(_ bars: [Bar]) { self.bars = bars }

        func reveal() { revealed.withLock { $0 += 1 } }

        func tickerPrice(_ symbol: String) async throws -> Double {
            let n = revealed.withLock { $0 }
            // A ticker that wanders inside the forming bar: it must not move the strategy.
            return bars[min(n, bars.count - 1)].close * (n % 2 == 0 ? 1.003 : 0.997)
        }

        func klines(_ symbol: String, interval: String, limit: Int) async throws -> [Bar] {
            #expect(interval == "5m")
            let n = revealed.withLock { $0 }
            return Array(bars[0..<min(n + 1, bars.count)].suffix(limit))
        }

        func symbolRules(_ symbol: String) async throws -> SymbolRules {
            SymbolRules(
                symbol: symbol, baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.000001,
                minQty: 0.000001, minNotional: 1)
        }

        func placeOrder(_ order: NewOrder) async throws -> OrderResult {
            let price = try await tickerPrice(order.symbol)
            held.withLock { $0 += order.side == .buy ? order.quantity : -order.quantity }
            let trade = trades.withLock { t in
                let id = Int64(t.count + 1)
                t.append(
                    AccountTrade(
                        orderId: id, side: order.side,
                        fill: Fill(
                            tradeId: id, price: price, qty: order.quantity, commission: 0, commissionAsset: "USDT")
                    ))
                return t.last!
            }
            return OrderResult(
                symbol: order.symbol, orderId: trade.orderId, clientOrderId: order.clientOrderId, side: order.side,
                status: "FILLED", executedQty: order.quantity, fills: [trade.fill])
        }

        func accountTrades(_ symbol: String, fromId: Int64, limit: Int) async throws -> [AccountTrade] {
            Array(trades.withLock { $0 }.filter { $0.fill.tradeId >= fromId }.prefix(limit))
        }

        func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult? { nil }
        func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill] { [] }
        /// What the orders placed so far add up to.
        func accountBalance(_ asset: String) async throws -> Double { held.withLock { $0 } }
        /// Orders fill at the ticker price, however large.
        func depth(_ symbol: String, limit: Int) async throws -> OrderBook {
            let price = try await tickerPrice(symbol)
            return OrderBook(lastUpdateId: 1, bids: [(price, 1e12)], asks: [(price, 1e12)])
        }
    }

    /// Bars from the simulator's own seeded price model, five-minute apart.
    static func bars(_ count: Int) -> [Bar] {
        var model = PriceModel(seed: 7, symbol: "BTCUSDT", price: 50_000, annualVolatility: 0.9)
        return (0..<count).map { i in
            let close = model.next()
            return Bar(time: Int64(i) * 300_000, price: close)
        }
    }

    /// SMA(3, 9) on five-minute bars, with no risk rule in the way of the signals.
    static func settings() -> TradingConfig.Engine {
        var settings = engineSettings(fast: 3, slow: 9)
        settings.strategy.interval = "5m"
        settings.risk.lossCooldown = 0
        settings.risk.dailyLossLimit = 1e12
        settings.risk.stopLoss = 1
        return settings
    }

    @Test func theEngineCoreAndAPlainLoopGetTheSameSignals() async throws {
        let bars = Self.bars(400)
        let settings = Self.settings()

        var plain = SMACrossover(fast: 3, slow: 9)
        let expected = bars.dropLast().map { plain.update($0) }

        let feed = BarFeed(bars)
        let core = EngineCore(
            settings: settings, exchange: feed, journal: MemoryJournal(), snapshotPath: nil, clock: ManualClock())
        try await core.warmUp()
        var live: [Signal] = []
        for _ in 0..<(bars.count - 1) {
            feed.reveal()
            let report = try await core.cycle(now: 1_800_000_000)
            live.append(report.signal)
        }
        #expect(live == expected)
        #expect(expected.filter { $0 != .hold }.count >= 6, "the series should cross several times")
        #expect(core.ledger.tradeCount > 0, "and the engine acted on them")
    }

    @Test func extraCyclesWithinOneBarDoNotMoveTheStrategy() async throws {
        let bars = Self.bars(60)
        var settings = engineSettings(fast: 3, slow: 9)
        settings.strategy.interval = "5m"
        let feed = BarFeed(bars)
        let core = EngineCore(
            settings: settings, exchange: feed, journal: MemoryJournal(), snapshotPath: nil, clock: ManualClock())
        try await core.warmUp()
        var plain = SMACrossover(fast: 3, slow: 9)
        var expected: [Signal] = []
        var live: [Signal] = []
        for i in 0..<(bars.count - 1) {
            feed.reveal()
            expected.append(plain.update(bars[i]))
            live.append(try await core.cycle(now: 1_800_000_000).signal)
            // Three more cycles before the next bar closes: the ticker moves, the bars do not.
            for _ in 0..<3 { #expect(try await core.cycle(now: 1_800_000_000).signal == .hold) }
        }
        #expect(live == expected)
        #expect(core.lastBarTime == bars[bars.count - 2].time)
    }
}

/// The backtester and a live engine on the same bars: the same signals, and trades on the same bars.
@Suite struct LiveAndBacktestTests {
    @Test func theEngineCoreAndTheBacktesterAgree() async throws {
        let bars = SameBarsTests.bars(400)
        let settings = SameBarsTests.settings()

        var m = BrokerModel()
        m.sizing = .notional(settings.orderNotional)
        m.lotSize = 0.000001
        m.cash = settings.initialCash
        // The live engine sees the last bar forming only: the backtester's signals but that bar's.
        let backtest = Backtester.run(bars: bars, strategy: StrategyFactory.make(settings.strategy), model: m)

        let feed = SameBarsTests.BarFeed(bars)
        let core = EngineCore(
            settings: settings, exchange: feed, journal: MemoryJournal(), snapshotPath: nil, clock: ManualClock())
        try await core.warmUp()
        var live: [Signal] = []
        var fills: [(bar: Int, side: OrderSide)] = []
        for i in 0..<(bars.count - 1) {
            feed.reveal()
            let report = try await core.cycle(now: 1_800_000_000)
            live.append(report.signal)
            // The engine acts in the cycle after bar i closed, while bar i + 1 forms: the
            // backtester's next-open fill.
            if let order = report.order { fills.append((i + 1, order.side)) }
        }
        #expect(live == Array(backtest.signals.dropLast()))
        var expected: [(bar: Int, side: OrderSide)] = []
        for t in backtest.trades { expected += [(t.entryBar, .buy), (t.exitBar, .sell)] }
        if let open = backtest.openPosition { expected.append((open.entryBar, .buy)) }
        #expect(fills.map(\.bar) == expected.map(\.bar) && fills.map(\.side) == expected.map(\.side))
        #expect(expected.count >= 6, "the series should cross several times")
    }
}
