import ExchangeModel
import TradingSettings

/// Pre-trade checks: a pure function of the proposed order, the ledger and the clock.
public struct RiskManager: Sendable {
    public enum Decision: Equatable, Sendable {
        case allow(qty: Double)
        case reject(String)
        /// The daily loss limit is hit: no new entries until the next UTC day.
        case pause(String)
    }

    public let limits: TradingConfig.Risk

    public init(_ limits: TradingConfig.Risk) { self.limits = limits }

    /// `cooldownUntil`: set after a losing trade; entries wait until then (exits never do).
    /// `asks`: the book a buy walks, best first (empty when it could not be fetched).
    public func check(
        side: OrderSide, qty: Double, price: Double, ledger: Ledger, rules: SymbolRules, now: Double,
        cooldownUntil: Double, asks: [(price: Double, qty: Double)] = []
    ) -> Decision {
        guard qty.isFinite, qty > 0, price.isFinite, price > 0 else {
            return .reject("quantity \(qty) at price \(price) is not a positive finite order")
        }
        var qty = qty
        switch side {
        case .buy:
            // The daily loss limit stops entries; exits always go out.
            if let breach = dailyLossBreach(ledger) { return .pause(breach) }
            if now < cooldownUntil {
                return .reject("cooling down after a loss for \(rounded(cooldownUntil - now)) s more")
            }
            let room = limits.maxPositionNotional - ledger.position * price
            let affordable = RiskManager.affordable(
                cash: max(0, ledger.cash), asks: asks, price: price, feeRate: limits.feeRate)
            qty = min(qty, room / price, limits.maxOrderNotional / price, affordable)
        case .sell:
            qty = min(qty, ledger.position)
            if qty * price > limits.maxOrderNotional {
                // Exits may be split; each part stays within the order limit.
                qty = limits.maxOrderNotional / price
            }
        }
        qty = ((qty / rules.stepSize) + 1e-9).rounded(.down) * rules.stepSize
        guard qty >= max(rules.minQty, rules.stepSize) else {
            return .reject(
                side == .buy
                    ? "no room: position, order or cash limits leave less than one lot" : "position is below one lot")
        }
        guard qty * price >= rules.minNotional else {
            return .reject("order value \(rounded(qty * price)) is below the exchange minimum \(rules.minNotional)")
        }
        return .allow(qty: qty)
    }

    /// How much a buy can take with `cash`: walking the asks level by level, with the fee on
    /// top and `bookMargin` for the book moving before the order lands, so the fill never costs
    /// more than the engine holds. Without a book: the ticker price plus 1 %.
    static func affordable(cash: Double, asks: [(price: Double, qty: Double)], price: Double, feeRate: Double)
        -> Double
    {
        var budget = cash / ((1 + feeRate) * (1 + bookMargin))
        guard !asks.isEmpty else { return budget / (price * 1.01) }
        var qty = 0.0
        for level in asks where level.price > 0 && level.qty > 0 {
            let cost = level.price * level.qty
            if cost >= budget { return qty + budget / level.price }
            qty += level.qty
            budget -= cost
        }
        // The book shown ends here: buy no more than it holds.
        return qty
    }

    /// Allowance for the book moving between its fetch and the order.
    static let bookMargin = 0.002

    /// Why the day's loss stops trading, or nil while it is within the limit.
    public func dailyLossBreach(_ ledger: Ledger) -> String? {
        guard ledger.dailyPnL <= -limits.dailyLossLimit else { return nil }
        return "daily loss \(rounded(-ledger.dailyPnL)) reached the limit of \(rounded(limits.dailyLossLimit))"
    }

    private func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}
