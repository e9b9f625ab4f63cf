import ExchangeModel
import Testing

@testable import Trading

/// Round trips paired from journal entries, fees in either asset.
struct ClosedTradeTests {
    func fill(_ seq: Int, _ side: OrderSide, _ qty: Double, _ price: Double, fee: Double = 0, asset: String = "USDT")
        -> JournalEntry
    {
        .fill(
            seq: seq, ts: Double(seq), clientOrderId: "c\(seq)", orderId: Int64(seq),
            fill: Fill(tradeId: Int64(seq), price: price, qty: qty, commission: fee, commissionAsset: asset), side: side
        )
    }

    @Test func pairsFlatToFlat() {
        let entries: [JournalEntry] = [
            .intent(seq: 1, ts: 1, clientOrderId: "c2", side: .buy, qty: 1),
            fill(2, .buy, 0.5, 100, fee: 0.05), fill(3, .buy, 0.5, 110, fee: 0.055),
            .done(seq: 4, ts: 4, clientOrderId: "c2", status: "FILLED"),
            fill(5, .sell, 1, 120, fee: 0.12),
            fill(6, .sell, 0.3, 130),  // a sell while flat opens nothing
            fill(7, .buy, 2, 50, fee: 0.002, asset: "BTC"),  // the fee comes out of the position
            fill(8, .sell, 1.998, 49),
            fill(9, .buy, 1, 60),  // still open: not a closed trade
        ]
        let trades = ClosedTrade.pair(entries, symbol: "BTCUSDT", baseAsset: "BTC")
        #expect(trades.count == 2)
        let first = trades[0]
        #expect(first.amount == 1 && abs(first.openRate - 105) < 1e-9 && first.closeRate == 120)
        #expect(abs(first.profit - (120 - 105 - 0.225)) < 1e-9 && abs(first.fees - 0.225) < 1e-9)
        #expect(first.openTime == 2 && first.closeTime == 5 && first.fills == 3)
        let second = trades[1]
        #expect(abs(second.profit - (1.998 * 49 - 100)) < 1e-9, "a base-asset fee is already in the smaller sale")
        #expect(abs(second.fees - 0.1) < 1e-9)
        #expect(second.json["trade_id"] == "BTCUSDT-2" && second.json["is_open"] == false)
    }
}
