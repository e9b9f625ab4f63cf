import ExchangeModel
import MarketData
import Synchronization

/// An exchange in memory: prices from a list, every market order filled at the price with a
/// 0.1 % fee, orders remembered by client id (like the real one, a duplicate id is refused).
public final class FakeExchange: ExchangeAPI {
    struct State {
        var prices: [Double]
        var index = 0
        var orders: [String: OrderResult] = [:]
        var placed = 0
        var nextTrade: Int64 = 1
        var failTicker: ExchangeError?
        var failSymbols: Set<String> = []
        var hangTicker = false
    }
    let state: PThreadLocked<State>

    public init(prices: [Double]) { state = PThreadLocked(State(prices: prices)) }

    public var placed: Int { state.withLock { $0.placed } }
    /// The base asset the executed orders of `<asset>USDT` add up to (fees are charged in USDT here).
    public func accountBalance(_ asset: String) async throws -> Double {
        guard asset != "USDT" else { return 0 }
        return executedOrders.filter { $0.symbol == asset + "USDT" }.reduce(0) { total, order in
            total + order.fills.reduce(0) { $0 + $1.qty } * (order.side == .buy ? 1 : -1)
        }
    }

    /// Every order the exchange executed, oldest first: the outside world's record to compare with.
    public var executedOrders: [OrderResult] { state.withLock { $0.orders.values.sorted { $0.orderId < $1.orderId } } }
    public func setFailure(_ error: ExchangeError?) { state.withLock { $0.failTicker = error } }
    public func setHang(_ hang: Bool) { state.withLock { $0.hangTicker = hang } }
    public func failSymbol(_ symbol: String, _ fail: Bool) {
        state.withLock { if fail { $0.failSymbols.insert(symbol) } else { $0.failSymbols.remove(symbol) } }
    }

    public func tickerPrice(_ symbol: String) async throws -> Double {
        if state.withLock({ $0.hangTicker }) { try await Task.sleep(for: .seconds(3600)) }
        return try state.withLock { s in
            if let error = s.failTicker { throw error }
            if s.failSymbols.contains(symbol) {
                throw ExchangeError.server(status: 503, message: "injected for \(symbol)")
            }
            let p = s.prices[min(s.index, s.prices.count - 1)]
            s.index += 1
            return p
        }
    }

    /// Every price ticked so far as a closed one-minute bar, then the forming bar (the last price
    /// again): each cycle's ticker call closes one bar, so each cycle gives the strategy one bar.
    public func klines(_ symbol: String, interval: String, limit: Int) async throws -> [Bar] {
        state.withLock { s in
            let closed = (0..<min(s.index, s.prices.count)).map { Bar(time: Int64($0) * 60_000, price: s.prices[$0]) }
            guard let last = closed.last else { return [] }
            return Array((closed + [Bar(time: Int64(closed.count) * 60_000, price: last.close)]).suffix(limit))
        }
    }

    public func symbolRules(_ symbol: String) async throws -> SymbolRules {
        SymbolRules(
            symbol: symbol, baseAsset: "BTC", quoteAsset: "USDT", tickSize: 0.01, stepSize: 0.0001, minQty: 0.0001,
            minNotional: 5)
    }

    public func placeOrder(_ order: NewOrder) async throws -> OrderResult {
        try state.withLock { s in
            if s.orders[order.clientOrderId] != nil {
                throw ExchangeError.rejected(status: 400, code: -2010, message: "Duplicate order sent.")
            }
            let price = s.prices[max(0, min(s.index - 1, s.prices.count - 1))]
            let fill = Fill(
                tradeId: s.nextTrade, price: price, qty: order.quantity, commission: price * order.quantity * 0.001,
                commissionAsset: "USDT")
            s.nextTrade += 1
            s.placed += 1
            let result = OrderResult(
                symbol: order.symbol, orderId: Int64(s.placed), clientOrderId: order.clientOrderId, side: order.side,
                status: "FILLED", executedQty: order.quantity, fills: [fill])
            s.orders[order.clientOrderId] = result
            return result
        }
    }

    public func queryOrder(symbol: String, clientOrderId: String) async throws -> OrderResult? {
        state.withLock { s in
            s.orders[clientOrderId].map {
                var o = $0
                o.fills = []
                return o
            }
        }
    }

    public func accountTrades(_ symbol: String, fromId: Int64, limit: Int) async throws -> [AccountTrade] {
        let trades = executedOrders.filter { $0.symbol == symbol }.flatMap { order in
            order.fills.map { AccountTrade(orderId: order.orderId, side: order.side, fill: $0) }
        }
        return Array(
            trades.filter { $0.fill.tradeId >= fromId }.sorted { $0.fill.tradeId < $1.fill.tradeId }.prefix(limit))
    }

    /// Every order fills at the last price, so the book is that one price, as deep as needed.
    public func depth(_ symbol: String, limit: Int) async throws -> OrderBook {
        state.withLock { s in
            let price = s.prices[max(0, min(s.index - 1, s.prices.count - 1))]
            return OrderBook(lastUpdateId: Int64(s.index), bids: [(price, 1e12)], asks: [(price, 1e12)])
        }
    }

    public func orderTrades(symbol: String, orderId: Int64) async throws -> [Fill] {
        state.withLock { s in s.orders.values.first { $0.orderId == orderId }?.fills ?? [] }
    }
}

/// Prices that make a 2/4 SMA crossover buy, then sell, then buy again.
public let wavePrices: [Double] = [
    100, 100, 100, 100, 100, 104, 108, 112, 110, 104, 98, 92, 90, 95, 101, 107, 112, 111, 108, 100, 94, 90, 92, 96, 103,
    110,
]
