import Testing
import Trading

@testable import Backtest

/// The broker's arithmetic on cases worked out by hand.
@Suite struct BrokerTests {
    @Test func aRoundTripWithCommission() {
        var b = Broker(model: model(cash: 1000, commission: 0.01))
        // Per unit 10 + 1 % = 10.1: 1000 / 10.1 = 99.0099 → 99 shares; fee 99 × 10 × 1 % = 9.90.
        b.execute(.buy, price: 10, bar: 1, time: 1)
        #expect(b.position?.size == 99)
        #expect(close(b.cash, 990.1))
        #expect(close(b.equity(at: 11), 1089.1))
        // Exit fee 99 × 12 × 1 % = 11.88; cash 990.10 + 99 × 2 − 11.88 = 1176.22.
        b.execute(.sell, price: 12, bar: 2, time: 2)
        #expect(b.position == nil)
        #expect(close(b.cash, 1176.22))
        let t = b.trades[0]
        #expect(close(t.commission, 21.78) && close(t.pnl, 176.22))
        #expect(close(t.returnPct, 0.2 - 21.78 / 990))
    }

    @Test func longOnlySellsOnlyCloseAndShortsNeedAllowShort() {
        var long = Broker(model: model())
        long.execute(.sell, price: 30, bar: 0, time: 0)
        #expect(long.position == nil && long.trades.isEmpty)

        var both = Broker(model: model(short: true))
        both.execute(.sell, price: 30, bar: 0, time: 0)
        #expect(both.position?.size == -33)  // 1000 / 30 = 33.3
        #expect(close(both.equity(at: 25), 1000 + 33 * 5))
        // A buy reverses: the short closes at 25 (+165), the long takes all the cash.
        both.execute(.buy, price: 25, bar: 1, time: 1)
        #expect(both.trades.count == 1 && close(both.trades[0].pnl, 165))
        #expect(both.position?.size == 46)  // 1165 / 25 = 46.6
        // A second buy while long changes nothing.
        both.execute(.buy, price: 20, bar: 2, time: 2)
        #expect(both.position?.size == 46 && both.trades.count == 1)
    }

    @Test func allOfTheCashLeavesAnExactMultipleOneShort() {
        // backtesting.py's fraction is 1 − 2⁻⁵²: 1000 at 20 buys 49, not 50 (as there).
        var b = Broker(model: model())
        b.execute(.buy, price: 20, bar: 0, time: 0)
        #expect(b.position?.size == 49)
    }

    @Test func slippageFixedFeeAndNotionalSizing() {
        var m = model(cash: 1000, lot: 0.5)
        m.slippageBps = 100
        m.sizing = .notional(500)
        var b = Broker(model: m)
        b.execute(.buy, price: 10, bar: 0, time: 0)
        // Buys at 10.10; 500 / 10.10 = 49.5 → 99 half units = 49.5.
        #expect(close(b.position!.entryPrice, 10.1) && b.position?.size == 49.5)
        b.execute(.sell, price: 12, bar: 1, time: 1)
        #expect(close(b.trades[0].exitPrice, 11.88))
        #expect(close(b.trades[0].pnl, 49.5 * (11.88 - 10.1)))

        var f = model(cash: 1000)
        f.fixedFee = 5
        var fb = Broker(model: f)
        // As backtesting.py sizes it: the fixed fee is reserved per unit, 1000 / (10 + 5) = 66.
        fb.execute(.buy, price: 10, bar: 0, time: 0)
        #expect(fb.position?.size == 66 && close(fb.cash, 995))
        fb.execute(.sell, price: 10, bar: 1, time: 1)
        #expect(close(fb.trades[0].pnl, -10) && close(fb.cash, 990))
    }

    @Test func anEntryTheCashCannotPayIsCountedNotBooked() {
        var b = Broker(model: model(cash: 5))
        b.execute(.buy, price: 10, bar: 0, time: 0)
        #expect(b.position == nil && b.unaffordable == 1)
    }

    @Test func pythonFloorDivision() {
        #expect(Broker.floorDivide(7, 2) == 3)
        #expect(Broker.floorDivide(-7, 2) == -4)
        #expect(Broker.floorDivide(0.3, 0.1) == 2)  // as Python: 0.3 // 0.1 == 2.0
        #expect(Broker.floorDivide(1, 0.1) == 9)  // as Python: 1 // 0.1 == 9.0
    }

    // MARK: Fill timing through the backtester

    let bars = dailyBars([(10, 11), (12, 13), (14, 15), (16, 17), (18, 19)])

    @Test func nextOpenFillsAtTheFollowingBarsOpen() {
        let r = Backtester.run(bars: bars, strategy: ScriptedStrategy([.buy, .hold, .sell]), model: model())
        #expect(r.trades.count == 1)
        let t = r.trades[0]
        #expect(t.entryBar == 1 && t.entryPrice == 12 && t.exitBar == 3 && t.exitPrice == 16)
        #expect(r.equity[0] == 1000 && r.equity[1] == 1000 + 83 * 1)  // 1000 / 12 = 83 shares, close 13
        #expect(r.signals == [.buy, .hold, .sell, .hold, .hold])
    }

    @Test func closeFillsAtTheSignalBarsClose() {
        var m = model()
        m.fill = .close
        let r = Backtester.run(bars: bars, strategy: ScriptedStrategy([.buy, .hold, .sell]), model: m)
        let t = r.trades[0]
        #expect(t.entryBar == 0 && t.entryPrice == 11 && t.exitBar == 2 && t.exitPrice == 15)
    }

    @Test func anOpenPositionIsLeftOpenOrClosedAtTheEnd() {
        let open = Backtester.run(bars: bars, strategy: ScriptedStrategy([.hold, .buy]), model: model())
        #expect(open.trades.isEmpty && open.openPosition?.entryBar == 2)
        #expect(close(open.equity.last!, 1000 + 71 * (19 - 14)))  // 1000 / 14 = 71
        var m = model()
        m.closeAtEnd = true
        let closed = Backtester.run(bars: bars, strategy: ScriptedStrategy([.hold, .buy]), model: m)
        #expect(closed.openPosition == nil && closed.trades.count == 1)
        #expect(closed.trades[0].closedAtEnd && closed.trades[0].exitPrice == 19 && closed.trades[0].exitBar == 4)
        #expect(closed.equity.last == open.equity.last)
    }

    @Test func aSignalOnTheLastBarHasNoBarToFillIn() {
        let r = Backtester.run(
            bars: bars, strategy: ScriptedStrategy([.hold, .hold, .hold, .hold, .buy]), model: model())
        #expect(r.trades.isEmpty && r.openPosition == nil)
    }

    @Test func walkForwardWarmUpBarsDoNotTrade() {
        let r = Backtester.run(
            bars: bars, strategy: ScriptedStrategy([.buy, .hold, .hold, .buy]), model: model(), tradeFrom: 2)
        #expect(r.openPosition?.entryBar == 4)
    }
}

/// The broker's books against the live engine's `Ledger`: the same fills give the same money.
@Suite struct BrokerAndLedgerTests {
    @Test func longOnlyRunsAgreeWithTheLedger() {
        let data = DataSet.synthetic(symbol: "SOLUSDT", bars: 5000, seed: 5, seconds: 60, startMs: 1_700_000_000_000)
        var m = model(cash: 10_000, commission: 0.001, lot: 0.01)
        m.sizing = .notional(2000)
        let r = Backtester.run(
            bars: data.bars, strategy: SMACrossover(fast: 4, slow: 15), model: m)
        #expect(r.trades.count > 20)
        var ledger = Ledger(initialCash: 10_000)
        for t in r.trades {
            ledger.apply(side: .buy, price: t.entryPrice, qty: t.size, fee: m.fee(qty: t.size, price: t.entryPrice))
            ledger.apply(side: .sell, price: t.exitPrice, qty: t.size, fee: m.fee(qty: t.size, price: t.exitPrice))
        }
        if let p = r.openPosition {
            ledger.apply(side: .buy, price: p.entryPrice, qty: p.size, fee: p.entryFee)
        }
        ledger.mark(price: data.bars.last!.close, day: "20231114")
        #expect(close(ledger.equity, r.equity.last!, 1e-9))
        #expect(close(ledger.fees, r.trades.reduce(0) { $0 + $1.commission } + (r.openPosition?.entryFee ?? 0), 1e-9))
        #expect(
            close(
                ledger.realizedPnL - (ledger.fees - (r.openPosition?.entryFee ?? 0)),
                r.trades.reduce(0) { $0 + $1.pnl }, 1e-9))
    }
}
