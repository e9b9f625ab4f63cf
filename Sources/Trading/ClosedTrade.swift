import JSON
import SystemKit

/// One round trip from flat to flat, read from a journal: what freqtrade's API calls a closed
/// trade, so `/api/v1/trades` and `profit` answer from the fills on disk, never from memory.
public struct ClosedTrade: Sendable, Equatable {
    public var symbol: String
    public var tradeId: Int
    public var openTime: Double
    public var closeTime: Double
    /// Base asset bought over the round trip.
    public var amount: Double
    /// Average entry and exit prices.
    public var openRate: Double
    public var closeRate: Double
    /// Every fee at its fill's price, in the quote asset.
    public var fees: Double
    /// Proceeds − cost − fees paid in the quote asset (a fee in the base asset already shrank what was sold).
    public var profit: Double
    public var profitRatio: Double { cost > 0 ? profit / cost : 0 }
    public var cost: Double
    public var fills: Int

    public var json: JSON {
        func money(_ x: Double) -> JSON { JSON((x * 1e8).rounded() / 1e8) }
        return [
            "trade_id": .string("\(symbol)-\(tradeId)"), "symbol": .string(symbol), "pair": .string(symbol),
            "is_open": false,
            "open_date": .string(Clock.iso8601(openTime)), "close_date": .string(Clock.iso8601(closeTime)),
            "open_timestamp": JSON((openTime * 1000).rounded()), "close_timestamp": JSON((closeTime * 1000).rounded()),
            "amount": JSON(amount), "open_rate": JSON(openRate), "close_rate": JSON(closeRate),
            "stake_amount": money(cost), "fee": money(fees), "profit_abs": money(profit),
            "profit_ratio": JSON((profitRatio * 1e8).rounded() / 1e8), "fills": JSON(fills),
        ]
    }

    /// Pairs the fills (and reconciliation adjustments) in journal order. A position still open at
    /// the end is not a closed trade and is left out.
    public static func pair(_ entries: [JournalEntry], symbol: String, baseAsset: String) -> [ClosedTrade] {
        var out: [ClosedTrade] = []
        var open: ClosedTrade?
        var position = 0.0
        var bought = 0.0
        var soldQty = 0.0
        var sold = 0.0
        var quoteFees = 0.0
        for entry in entries {
            let qty: Double
            let price: Double
            var fee = 0.0
            var baseFee = false
            switch entry {
            case .fill(_, _, _, _, let f, let side):
                qty = side == .buy ? f.qty : -f.qty
                price = f.price
                fee = f.commission
                baseFee = f.commissionAsset == baseAsset
            case .adjust(_, _, let q, let p, _):
                qty = q
                price = p
            default:
                continue
            }
            if open == nil {
                guard qty > 0 else { continue }  // a sell while flat belongs to no round trip
                open = ClosedTrade(
                    symbol: symbol, tradeId: out.count + 1, openTime: entry.ts, closeTime: entry.ts, amount: 0,
                    openRate: 0, closeRate: 0, fees: 0, profit: 0, cost: 0, fills: 0)
                (position, bought, soldQty, sold, quoteFees) = (0, 0, 0, 0, 0)
            }
            open!.fills += 1
            open!.fees += baseFee ? fee * price : fee
            if !baseFee { quoteFees += fee }
            if qty > 0 {
                open!.amount += qty
                bought += qty * price
                position += qty - (baseFee ? fee : 0)
            } else {
                soldQty -= qty
                sold -= qty * price
                position += qty
            }
            // Flat again (to rounding): the round trip is closed.
            if qty < 0 && position <= max(1e-12, open!.amount * 1e-9) {
                var t = open!
                t.closeTime = entry.ts
                t.openRate = t.amount > 0 ? bought / t.amount : 0
                t.closeRate = soldQty > 0 ? sold / soldQty : 0
                t.cost = bought
                t.profit = sold - bought - quoteFees
                out.append(t)
                open = nil
            }
        }
        return out
    }
}
