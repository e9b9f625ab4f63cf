/// How simulated orders fill and what they cost. Every part is a command-line option of
/// `backtest`; the defaults are the live engine's (long only, next-bar-open fills).
public struct BrokerModel: Sendable, Equatable {
    public enum Fill: String, Sendable, CaseIterable {
        /// At the open of the bar after the signal (the live engine acts once a bar has closed).
        case nextOpen = "next-open"
        /// At the close of the signal's bar (backtesting.py's `trade_on_close`).
        case close
    }

    public enum Sizing: Sendable, Equatable {
        /// This fraction of the available cash.
        case equity(fraction: Double)
        /// A fixed quote amount per entry, as the live engine's `order_notional`.
        case notional(Double)
    }

    public var cash = 10_000.0
    /// Commission as a rate of the notional, charged at entry and at exit.
    public var commission = 0.0
    /// A fixed fee per fill, in the quote asset.
    public var fixedFee = 0.0
    /// Each fill is this much worse than the bar's price (buys higher, sells lower).
    public var slippageBps = 0.0
    public var sizing = Sizing.equity(fraction: BrokerModel.allOfIt)
    /// Quantities are whole multiples of this (1 for shares; the exchange's step for crypto).
    public var lotSize = 0.000_01
    /// Long/short: a sell signal opens a short (reversal); otherwise it only closes the long.
    public var allowShort = false
    public var fill = Fill.nextOpen
    /// Close a position still open after the last bar, at its close (the trade is marked so).
    public var closeAtEnd = false

    public init() {}

    /// backtesting.py's default `buy()`/`sell()` size, 1 − 2⁻⁵² ("all of it", as a fraction).
    public static let allOfIt = 1 - Double.ulpOfOne

    /// The fee for `qty` at `price`.
    public func fee(qty: Double, price: Double) -> Double { fixedFee + abs(qty) * price * commission }

    /// `price` after slippage for a fill in direction `sign` (+1 buy, -1 sell).
    func slipped(_ price: Double, sign: Double) -> Double { price * (1 + sign * slippageBps / 10_000) }

    /// What is wrong with the model, or nil.
    public var problem: String? {
        if !(cash.isFinite && cash > 0) { return "cash must be a positive amount (got \(cash))" }
        if !(commission >= 0 && commission < 0.1) {
            return "commission is a rate below 0.1 (0.002 is 0.2 %), got \(commission)"
        }
        if !(fixedFee >= 0 && fixedFee.isFinite) { return "the fixed fee must be ≥ 0 (got \(fixedFee))" }
        if !(slippageBps >= 0 && slippageBps < 10_000) { return "slippage must be 0…9999 bps (got \(slippageBps))" }
        if !(lotSize > 0 && lotSize.isFinite) { return "the lot size must be positive (got \(lotSize))" }
        switch sizing {
        case .equity(let f) where !(f > 0 && f <= 1):
            return "the equity fraction must be in (0, 1] (got \(f))"
        case .notional(let x) where !(x > 0 && x.isFinite):
            return "the order notional must be a positive amount (got \(x))"
        default: return nil
        }
    }
}
