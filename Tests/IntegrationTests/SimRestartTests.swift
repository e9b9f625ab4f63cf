import ExchangeConnector
import ExchangeModel
import Glibc
import SuperBotTesting
import SystemKit
import Testing

/// A simulator killed with -9 comes back with its account, as a real exchange does after an
/// outage: the orders and trades an engine may ask about are still there.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SimRestartTests {
    @Test func aKilledSimulatorKeepsBalancesOrdersTradesAndItsPricePath() async throws {
        let sim = try SimProcess(symbols: "BTCUSDT", simulator: "speed: 60, history_bars: 50")
        let client = try sim.client {
            $0.tickerTTL = 0
            $0.accountTTL = 0
        }
        defer { client.shutdown() }
        let bought = try await client.placeOrder(
            NewOrder(symbol: "BTCUSDT", side: .buy, quantity: 0.01, clientOrderId: "restart-1"))
        let price = try await client.tickerPrice("BTCUSDT")
        // A limit sell far above the market rests, locking its BTC.
        let resting = try await client.placeOrder(
            NewOrder(
                symbol: "BTCUSDT", side: .sell, quantity: 0.004, clientOrderId: "restart-2", type: "LIMIT",
                price: ((price * 2) * 100).rounded() / 100))
        #expect(resting.status == "NEW")
        let before = try await client.balances()

        sim.kill()
        try sim.start()

        let after = try await client.balances()
        for asset in ["BTC", "USDT"] {
            #expect(after[asset]?.free == before[asset]?.free, "\(asset) free")
            #expect(after[asset]?.locked == before[asset]?.locked, "\(asset) locked")
        }
        #expect((after["BTC"]?.locked ?? 0) > 0)
        let found = try #require(try await client.queryOrder(symbol: "BTCUSDT", clientOrderId: "restart-1"))
        #expect(found.orderId == bought.orderId && found.status == "FILLED" && found.executedQty == 0.01)
        let trades = try await client.orderTrades(symbol: "BTCUSDT", orderId: bought.orderId)
        #expect(trades == bought.fills)
        let open = try await client.openOrders(symbol: "BTCUSDT")
        #expect(open.map(\.clientOrderId) == ["restart-2"])
        // A retried placement of an old id is still refused as a duplicate.
        await #expect(throws: ExchangeError.self) {
            _ = try await client.placeOrder(
                NewOrder(symbol: "BTCUSDT", side: .buy, quantity: 0.01, clientOrderId: "restart-1"))
        }
        // New ids continue past the old ones; the price path goes on from where it was.
        let next = try await client.placeOrder(
            NewOrder(symbol: "BTCUSDT", side: .buy, quantity: 0.01, clientOrderId: "restart-3"))
        #expect(next.orderId > resting.orderId)
        #expect(next.fills.allSatisfy { f in bought.fills.allSatisfy { f.tradeId > $0.tradeId } })
        let priceAfter = try await client.tickerPrice("BTCUSDT")
        #expect(abs(priceAfter / price - 1) < 0.02, "the path restarted: \(price) → \(priceAfter)")
    }

    @Test func aDamagedStateFileStopsTheSimulatorWithTheLineToFix() throws {
        let sim = try SimProcess(symbols: "BTCUSDT")
        sim.kill()
        let path = sim.dir + "/data/exchange-sim.jsonl"
        // A line torn by a crash mid-write never counted: the simulator starts.
        let intact = try FileSystem.readString(path)
        try FileSystem.writeAtomically(path, Array((intact + "{\"order\": {\"id\"").utf8))
        try sim.start()
        sim.kill()
        var text = intact
        text += "{\"order\": 12\n"
        try FileSystem.writeAtomically(path, Array(text.utf8))
        #expect(throws: HarnessError.self) { try sim.start() }
        let out = try FileSystem.readString(sim.dir + "/sim.out")
        #expect(out.contains("exchange-sim.jsonl:2 is not JSON"), "\(out)")
        #expect(out.contains("move the file aside"))
    }
}
