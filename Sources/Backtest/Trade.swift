/// One closed round trip, with backtesting.py's fields (`Size` is negative for a short).
public struct Trade: Sendable, Equatable {
    public var size: Double
    public var entryBar: Int
    public var exitBar: Int
    public var entryTime: Int64
    public var exitTime: Int64
    public var entryPrice: Double
    public var exitPrice: Double
    /// Entry and exit fees together.
    public var commission: Double
    /// The position was still open after the last bar and closed there (`closeAtEnd`).
    public var closedAtEnd = false

    /// Profit after both fees.
    public var pnl: Double { size * (exitPrice - entryPrice) - commission }
    /// Return on the entry notional, fees included (backtesting.py's `ReturnPct`, a fraction).
    public var returnPct: Double {
        (size < 0 ? -1.0 : 1.0) * (exitPrice / entryPrice - 1) - commission / (abs(size) * entryPrice)
    }
    public var isLong: Bool { size > 0 }
}
