/// The simulator's order and account records, in the shapes Binance answers with.
public struct SimOrder: Sendable {
    public enum Status: String, Sendable {
        case new = "NEW"
        case partiallyFilled = "PARTIALLY_FILLED"
        case filled = "FILLED"
        case canceled = "CANCELED"
        case expired = "EXPIRED"
    }

    public var orderId: Int64
    public var clientOrderId: String
    public var symbol: String
    public var side: String
    public var type: String
    public var timeInForce: String
    public var price: Double
    public var origQty: Double
    public var executedQty: Double = 0
    public var cumulativeQuote: Double = 0
    public var status: Status = .new
    public var time: Int64
    public var updateTime: Int64
    public var fills: [SimFill] = []
    /// Quote (buy) or base (sell) locked while the order rests.
    var locked: Double = 0

    var isOpen: Bool { status == .new || status == .partiallyFilled }
    var remaining: Double { max(0, origQty - executedQty) }
}

public struct SimFill: Sendable {
    public var tradeId: Int64
    public var orderId: Int64
    public var symbol: String
    public var price: Double
    public var qty: Double
    public var commission: Double
    public var commissionAsset: String
    public var time: Int64
    public var isBuyer: Bool
    public var isMaker: Bool
}

public struct SimBalance: Sendable {
    public var free: Double
    public var locked: Double
}
