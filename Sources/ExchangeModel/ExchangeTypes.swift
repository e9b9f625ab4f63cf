import MarketData

/// What an engine needs from an exchange. `ExchangeClient` speaks it over HTTP; tests use
/// in-memory fakes to crash an engine at any step without a network.
public protocol ExchangeAPI: Sendable {
    func tickerPrice(_ symbol: String) async throws -> Double
    func klines(_ symbol: String, interval: String, limit: Int) async throws -> [Bar]
    func symbolRules(_ symbol: String) async throws -> SymbolRules
    /// Places an order; `clientOrderId` makes a retried placement safe (the exchange refuses a duplicate).
    func placeOrder(_ order: NewOrder) async throws -> OrderResult
    /// The order with this client id, or nil if the exchange never received it.
    func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult?
    /// The fills of one order (what a placement's lost reply would have carried).
    func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill]
    /// Free plus locked balance of one asset in the account: what reconciliation compares with the books.
    func accountBalance(_ asset: String) async throws -> Double
    /// The order book's best `limit` levels a side: a buy is sized by walking the asks.
    func depth(_ symbol: String, limit: Int) async throws -> OrderBook
    /// The account's trades in `symbol` from trade id `fromId` on, oldest first, at most `limit`:
    /// what reconciliation compares the journal's fills with.
    func accountTrades(_ symbol: String, fromId: Int64, limit: Int) async throws -> [AccountTrade]
}

/// One of the account's trades as the exchange lists it (`myTrades`).
public struct AccountTrade: Sendable, Equatable {
    public var orderId: Int64
    public var side: OrderSide
    public var fill: Fill

    public init(orderId: Int64, side: OrderSide, fill: Fill) {
        self.orderId = orderId
        self.side = side
        self.fill = fill
    }
}

public enum OrderSide: String, Sendable, Equatable {
    case buy = "BUY"
    case sell = "SELL"
}

public struct NewOrder: Sendable, Equatable {
    public var symbol: String
    public var side: OrderSide
    public var type: String
    public var quantity: Double
    public var price: Double?
    public var clientOrderId: String

    public init(
        symbol: String, side: OrderSide, quantity: Double, clientOrderId: String, type: String = "MARKET",
        price: Double? = nil
    ) {
        self.symbol = symbol
        self.side = side
        self.type = type
        self.quantity = quantity
        self.price = price
        self.clientOrderId = clientOrderId
    }
}

/// One execution. `tradeId` is the exchange's identity for it: the journal never counts one twice.
public struct Fill: Sendable, Equatable {
    public var tradeId: Int64
    public var price: Double
    public var qty: Double
    public var commission: Double
    public var commissionAsset: String

    public init(tradeId: Int64, price: Double, qty: Double, commission: Double, commissionAsset: String) {
        self.tradeId = tradeId
        self.price = price
        self.qty = qty
        self.commission = commission
        self.commissionAsset = commissionAsset
    }
}

public struct OrderResult: Sendable, Equatable {
    public var symbol: String
    public var orderId: Int64
    public var clientOrderId: String
    public var side: OrderSide
    public var status: String
    public var executedQty: Double
    public var fills: [Fill]
    /// When the exchange created the order (ms since the epoch), if it said.
    public var time: Int64?

    public init(
        symbol: String, orderId: Int64, clientOrderId: String, side: OrderSide, status: String, executedQty: Double,
        fills: [Fill], time: Int64? = nil
    ) {
        self.symbol = symbol
        self.orderId = orderId
        self.clientOrderId = clientOrderId
        self.side = side
        self.status = status
        self.executedQty = executedQty
        self.fills = fills
        self.time = time
    }

    public var isFinal: Bool { ["FILLED", "CANCELED", "EXPIRED", "REJECTED", "EXPIRED_IN_MATCH"].contains(status) }
}

/// LOT_SIZE, PRICE_FILTER and NOTIONAL of one symbol.
public struct SymbolRules: Sendable, Equatable {
    public var symbol: String
    public var baseAsset: String
    public var quoteAsset: String
    public var tickSize: Double
    public var stepSize: Double
    public var minQty: Double
    public var minNotional: Double

    public init(
        symbol: String, baseAsset: String, quoteAsset: String, tickSize: Double, stepSize: Double, minQty: Double,
        minNotional: Double
    ) {
        self.symbol = symbol
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQty = minQty
        self.minNotional = minNotional
    }
}

public struct BookTicker: Sendable, Equatable {
    public var bidPrice, bidQty, askPrice, askQty: Double

    public init(bidPrice: Double, bidQty: Double, askPrice: Double, askQty: Double) {
        self.bidPrice = bidPrice
        self.bidQty = bidQty
        self.askPrice = askPrice
        self.askQty = askQty
    }
}

public struct OrderBook: Sendable, Equatable {
    public var lastUpdateId: Int64
    public var bids: [(price: Double, qty: Double)]
    public var asks: [(price: Double, qty: Double)]

    public init(lastUpdateId: Int64, bids: [(price: Double, qty: Double)], asks: [(price: Double, qty: Double)]) {
        self.lastUpdateId = lastUpdateId
        self.bids = bids
        self.asks = asks
    }

    public static func == (a: OrderBook, b: OrderBook) -> Bool {
        a.lastUpdateId == b.lastUpdateId && a.bids.elementsEqual(b.bids, by: ==) && a.asks.elementsEqual(b.asks, by: ==)
    }
}
