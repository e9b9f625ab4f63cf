import Trading

/// The simulated account: cash and at most one open position, changed by signals filled at a
/// price. Cash moves by fees and realised profit only (as backtesting.py books it), so
/// equity = cash + open profit.
public struct Broker: Sendable {
    public struct Position: Sendable, Equatable {
        public var size: Double
        public var entryPrice: Double
        public var entryBar: Int
        public var entryTime: Int64
        public var entryFee: Double
    }

    public let model: BrokerModel
    public private(set) var cash: Double
    public private(set) var position: Position?
    public private(set) var trades: [Trade] = []
    /// Entries skipped because the cash could not buy one lot.
    public private(set) var unaffordable = 0

    public init(model: BrokerModel) {
        self.model = model
        cash = model.cash
    }

    public func equity(at price: Double) -> Double {
        guard let p = position else { return cash }
        // backtesting.py's association, so equities agree to the last digit.
        return cash + (price * p.size - p.size * p.entryPrice)
    }

    /// Acts on a signal at `price`: a buy closes a short and opens a long unless long already; a
    /// sell closes a long and, with `allowShort`, opens a short.
    public mutating func execute(_ signal: Signal, price: Double, bar: Int, time: Int64) {
        let sign: Double
        switch signal {
        case .hold: return
        case .buy: sign = 1
        case .sell: sign = -1
        }
        if let p = position {
            if p.size * sign > 0 { return }
            close(price: price, bar: bar, time: time)
        }
        guard sign > 0 || model.allowShort else { return }
        open(sign: sign, price: price, bar: bar, time: time)
    }

    /// Closes the open position, if any, at `price`.
    public mutating func close(price: Double, bar: Int, time: Int64, atEnd: Bool = false) {
        guard let p = position else { return }
        let exit = model.slipped(price, sign: p.size > 0 ? -1 : 1)
        let exitFee = model.fee(qty: p.size, price: exit)
        cash += p.size * (exit - p.entryPrice) - exitFee
        trades.append(
            Trade(
                size: p.size, entryBar: p.entryBar, exitBar: bar, entryTime: p.entryTime, exitTime: time,
                entryPrice: p.entryPrice, exitPrice: exit, commission: p.entryFee + exitFee, closedAtEnd: atEnd))
        position = nil
    }

    private mutating func open(sign: Double, price: Double, bar: Int, time: Int64) {
        let entry = model.slipped(price, sign: sign)
        let available = max(0, cash)
        let lots: Double
        switch model.sizing {
        case .equity(let fraction):
            // backtesting.py's arithmetic: whole lots of (price + commission per unit) in the
            // fraction of the cash, the fixed fee spread over the fraction.
            let perUnit = entry + (model.fixedFee + fraction * entry * model.commission) / fraction
            lots = Broker.floorDivide(available * fraction, perUnit * model.lotSize)
        case .notional(let notional):
            let budget = min(notional, (available - model.fixedFee) / (1 + model.commission))
            lots = budget > 0 ? Broker.floorDivide(budget, entry * model.lotSize) : 0
        }
        guard lots >= 1 else {
            unaffordable += 1
            return
        }
        let size = sign * lots * model.lotSize
        let fee = model.fee(qty: size, price: entry)
        cash -= fee
        position = Position(size: size, entryPrice: entry, entryBar: bar, entryTime: time, entryFee: fee)
    }

    /// Python's float `//` (CPython's float_floor_div), so sizes agree with backtesting.py to the unit.
    static func floorDivide(_ a: Double, _ b: Double) -> Double {
        let mod = a.truncatingRemainder(dividingBy: b)
        var div = (a - mod) / b
        if mod != 0, (b < 0) != (mod < 0) { div -= 1 }
        guard div != 0 else { return 0 }
        var floored = div.rounded(.down)
        if div - floored > 0.5 { floored += 1 }
        return floored
    }
}
