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
    public func check(
        side: OrderSide, qty: Double, price: Double, ledger: Ledger, rules: SymbolRules, now: Double,
        cooldownUntil: Double
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
            let affordable = max(0, ledger.cash) / (price * 1.01)
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

    /// Why the day's loss stops trading, or nil while it is within the limit.
    public func dailyLossBreach(_ ledger: Ledger) -> String? {
        guard ledger.dailyPnL <= -limits.dailyLossLimit else { return nil }
        return "daily loss \(rounded(-ledger.dailyPnL)) reached the limit of \(rounded(limits.dailyLossLimit))"
    }

    private func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}
