import ExchangeModel
import JSON

/// One engine's money: its paper cash, the position and its average entry price, realized PnL,
/// fees, and the day's starting equity. Changed only by journaled fills (and price marks), so a
/// replay of the journal rebuilds it exactly.
///
/// Identity (tests hold it): `equity == initialCash + realizedPnL + unrealizedPnL - fees`,
/// with `equity = cash + position × lastPrice`.
public struct Ledger: Equatable, Sendable {
    public var initialCash: Double
    public var cash: Double
    public var position = 0.0
    public var averagePrice = 0.0
    public var realizedPnL = 0.0
    public var fees = 0.0
    public var tradeCount = 0
    public var lastPrice = 0.0
    /// UTC day (YYYYMMDD) the daily PnL counts from, and the equity at its start.
    public var day = ""
    public var dayStartEquity: Double
    /// Journal sequence number of the last entry applied.
    public var lastSeq = 0

    public init(initialCash: Double) {
        self.initialCash = initialCash
        cash = initialCash
        dayStartEquity = initialCash
    }

    public var unrealizedPnL: Double { position == 0 ? 0 : (lastPrice - averagePrice) * position }
    public var equity: Double { cash + position * lastPrice }
    public var dailyPnL: Double { equity - dayStartEquity }
    public var positionNotional: Double { position * lastPrice }

    /// A new price; on a new UTC day the daily PnL starts again from the current equity.
    public mutating func mark(price: Double, day: String) {
        lastPrice = price
        if day != self.day {
            self.day = day
            dayStartEquity = equity
        }
    }

    /// Applies one fill. `fee` is in the quote asset, paid from cash; `baseFee` is a commission
    /// taken from the base asset (a buy then adds only `qty - baseFee` to the position, as the
    /// account receives). Both count in `fees`, the base one valued at the fill price.
    public mutating func apply(side: OrderSide, price: Double, qty: Double, fee: Double, baseFee: Double = 0) {
        tradeCount += 1
        fees += fee + baseFee * price
        switch side {
        case .buy:
            let net = qty - baseFee
            averagePrice = position + net > 0 ? (averagePrice * position + price * net) / (position + net) : 0
            position += net
            cash -= price * qty + fee
        case .sell:
            let sold = min(qty, position)
            realizedPnL += (price - averagePrice) * sold
            position -= sold + min(baseFee, position - sold)
            cash += price * qty - fee
            if position <= 1e-12 {
                position = 0
                averagePrice = 0
            }
        }
        if lastPrice == 0 { lastPrice = price }
    }

    /// Books a change of position the exchange shows but no fill explains (reconciliation's
    /// `adopt_exchange`), valued at `price`, without a fee; it is not a trade.
    public mutating func adjust(by qty: Double, price: Double) {
        let trades = tradeCount
        apply(side: qty >= 0 ? .buy : .sell, price: price, qty: abs(qty), fee: 0)
        tradeCount = trades
    }

    public var json: JSON {
        [
            "initial_cash": JSON(initialCash), "cash": JSON(cash), "position": JSON(position),
            "average_price": JSON(averagePrice),
            "realized_pnl": JSON(realizedPnL), "unrealized_pnl": JSON(unrealizedPnL), "fees": JSON(fees),
            "trade_count": JSON(tradeCount),
            "last_price": JSON(lastPrice), "equity": JSON(equity), "daily_pnl": JSON(dailyPnL), "day": .string(day),
            "day_start_equity": JSON(dayStartEquity), "journal_seq": JSON(lastSeq),
        ]
    }

    public init?(json: JSON) {
        guard let initial = json["initial_cash"]?.doubleValue, let cash = json["cash"]?.doubleValue,
            let position = json["position"]?.doubleValue,
            let average = json["average_price"]?.doubleValue, let realized = json["realized_pnl"]?.doubleValue,
            let fees = json["fees"]?.doubleValue,
            let count = json["trade_count"]?.intValue, let last = json["last_price"]?.doubleValue,
            let seq = json["journal_seq"]?.intValue,
            let dayStart = json["day_start_equity"]?.doubleValue
        else { return nil }
        self.initialCash = initial
        self.cash = cash
        self.position = position
        averagePrice = average
        realizedPnL = realized
        self.fees = fees
        tradeCount = count
        lastPrice = last
        day = json["day"]?.stringValue ?? ""
        dayStartEquity = dayStart
        lastSeq = seq
    }
}
