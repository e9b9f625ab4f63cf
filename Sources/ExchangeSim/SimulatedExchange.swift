import HTTP
import JSON
import MarketData
import SuperBotConfig
import SystemKit
import TradingSettings

/// The offline exchange behind `exchange-sim`: markets on seeded price paths, one paper account,
/// market and limit orders with fees and book-walking slippage, Binance's request weights, and
/// injected faults. Single-threaded: the HTTP server's event loop owns it.
public final class SimulatedExchange {
    /// What to do with one request.
    public enum Outcome {
        case respond(HTTPResponse)
        /// Close the connection without answering.
        case drop
        /// Answer after a delay (injected latency).
        case delayed(Double, HTTPResponse?)
    }

    public struct Stats: Sendable {
        public var requests = 0
        public var ordersPlaced = 0
        public var rateLimited = 0
        public var faultsInjected = 0
    }

    var markets: [String: SimMarket] = [:]
    let symbolOrder: [String]
    var balances: [String: SimBalance] = [:]
    var orders: [Int64: SimOrder] = [:]
    /// Resting orders, so the 100 ms matching pass never walks the filled history.
    var openOrderIDs: Set<Int64> = []
    var orderByClientID: [String: Int64] = [:]
    var trades: [String: [SimFill]] = [:]
    var nextOrderID: Int64 = 1
    var nextTradeID: Int64 = 1
    public let takerFee: Double
    public let makerFee: Double
    /// Buys pay their fee in the base asset they receive (`fee_asset: received`).
    let buyFeeInBase: Bool
    public var faults: TradingConfig.Faults
    var limiter: WeightLimiter
    var faultRandom: SeededRandom
    let speed: Double
    let startWall: Double
    public internal(set) var stats = Stats()
    let apiRoutes = SimulatedExchange.apiRouter()

    /// Where the account is kept across restarts (nil: memory only).
    let store: SimStore?

    /// A simulated day at most is replayed to continue the price path where a restarted simulator
    /// left it; past that the path starts afresh from now.
    static let maxReplayedSeconds = 86_400.0

    public init(config: TradingConfig.Simulator, symbols: [String], now: Double) throws {
        store = config.stateFile.map(SimStore.init)
        let saved = try store?.load()
        restoredOrders = saved?.orders.count ?? 0
        var origin = saved?.origin ?? now
        if (now - origin) * config.speed > SimulatedExchange.maxReplayedSeconds { origin = now }
        takerFee = config.takerFee
        makerFee = config.makerFee
        buyFeeInBase = config.feeAsset == "received"
        faults = config.faults
        limiter = WeightLimiter(limit: config.weightLimit, window: config.rateWindow)
        faultRandom = SeededRandom(seed: config.seed, stream: "faults")
        speed = config.speed
        startWall = origin
        symbolOrder = symbols
        let startSecond = Int64(origin)
        for symbol in symbols {
            guard let (base, quote) = TradingConfig.splitSymbol(symbol) else {
                throw SimError("'\(symbol)' is not a spot symbol like BTCUSDT")
            }
            let known = SyntheticMarket.defaults[base] ?? SyntheticMarket.fallback
            let custom = config.markets[symbol]
            let price = custom?.price ?? known.price
            var replay: [Bar] = []
            if let path = config.replay[symbol] {
                let text: String
                do { text = try String(decoding: FileSystem.readFile(path), as: UTF8.self) } catch {
                    throw SimError("cannot read replay file \(path) for \(symbol): \(error)")
                }
                do { replay = try OHLCVCSV.parse(text) } catch { throw SimError("\(path): \(error)") }
                guard replay.count >= 2 else {
                    throw SimError("\(path): replay needs at least 2 bars, found \(replay.count)")
                }
            }
            let tick = custom?.tickSize ?? SyntheticMarket.tick(for: price)
            let step = custom?.stepSize ?? SyntheticMarket.step(for: price)
            markets[symbol] = SimMarket(
                symbol: symbol, base: base, quote: quote, price: price,
                volatility: custom?.volatility ?? known.volatility,
                tickSize: tick, stepSize: step, seed: config.seed, startSecond: startSecond,
                historyBars: config.historyBars, replay: replay)
            for asset in [base, quote] where balances[asset] == nil { balances[asset] = SimBalance(free: 0, locked: 0) }
        }
        guard let saved else {
            for (asset, amount) in config.balances { balances[asset] = SimBalance(free: amount, locked: 0) }
            try store?.compact(SimStore.State(origin: origin, balances: balances, orders: [:]))
            return
        }
        // The account as the last run left it: config balances only seed a new account.
        balances.merge(saved.balances) { $1 }
        orders = saved.orders
        for (id, order) in orders {
            orderByClientID[order.clientOrderId] = id
            if order.isOpen { openOrderIDs.insert(id) }
            nextOrderID = max(nextOrderID, id + 1)
            for fill in order.fills { nextTradeID = max(nextTradeID, fill.tradeId + 1) }
        }
        for id in orders.keys.sorted() { trades[orders[id]!.symbol, default: []].append(contentsOf: orders[id]!.fills) }
        for symbol in trades.keys { trades[symbol]!.sort { $0.tradeId < $1.tradeId } }
        try store?.compact(SimStore.State(origin: origin, balances: balances, orders: orders))
    }

    /// Orders this run found in its state file (0 for a new account), for the start-up log.
    public let restoredOrders: Int

    /// Puts an order's new state (and the balances it moved) on disk before any reply mentions
    /// it. A simulator that cannot keep its account stops rather than answer from a state it
    /// will not have after a restart.
    private func persist(_ order: SimOrder, _ market: SimMarket) {
        guard let store else { return }
        do {
            try store.record(
                order,
                balances: [market.baseAsset, market.quoteAsset].reduce(into: [:]) {
                    $0[$1] = balances[$1, default: SimBalance(free: 0, locked: 0)]
                })
        } catch {
            SimServer.fail("cannot record order \(order.orderId) in \(store.path): \(error)", code: 1)
        }
    }

    // MARK: Time

    /// Simulated seconds since the epoch at wall time `now`.
    func simSecond(_ now: Double) -> Int64 { Int64(startWall + (now - startWall) * speed) }

    /// Moves every market to `now` and fills resting limit orders the prices crossed.
    public func advance(now: Double) {
        let second = simSecond(now)
        for symbol in symbolOrder { markets[symbol]!.advance(to: second) }
        matchRestingOrders(now: now)
    }

    func advance(_ symbol: String, now: Double) {
        markets[symbol]?.advance(to: simSecond(now))
    }

    // MARK: Orders

    struct Rejection: Error {
        let status: Int
        let code: Int
        let message: String
        init(_ code: Int, _ message: String, status: Int = 400) {
            self.status = status
            self.code = code
            self.message = message
        }
    }

    func placeOrder(
        symbol: String, side: String, type: String, quantity: Double, price: Double?, timeInForce: String,
        clientOrderId: String?, now: Double
    ) throws(Rejection) -> SimOrder {
        guard markets[symbol] != nil else { throw Rejection(-1121, "Invalid symbol.") }
        // Advanced in place: a copy would duplicate the market's bar history on every order.
        advance(symbol, now: now)
        let market = markets[symbol]!
        if let id = clientOrderId, orderByClientID[id] != nil { throw Rejection(-2010, "Duplicate order sent.") }
        let qty = DecimalText.floor(quantity, step: market.stepSize)
        guard qty > 0, abs(qty - quantity) < market.stepSize * 1e-6 else {
            throw Rejection(
                -1013,
                "Filter failure: LOT_SIZE (quantity \(quantity) is not a positive multiple of step size \(market.stepSize))"
            )
        }
        let reference = price ?? market.lastPrice
        if let price {
            guard abs(DecimalText.round(price, step: market.tickSize) - price) < market.tickSize * 1e-6 else {
                throw Rejection(
                    -1013,
                    "Filter failure: PRICE_FILTER (price \(price) is not a multiple of tick size \(market.tickSize))")
            }
        }
        guard qty * reference >= market.minNotional else {
            throw Rejection(
                -1013,
                "Filter failure: NOTIONAL (order value \(qty * reference) is below the minimum of \(market.minNotional))"
            )
        }
        let ms = Int64(now * 1000)
        var order = SimOrder(
            orderId: nextOrderID, clientOrderId: clientOrderId ?? "sim-\(nextOrderID)", symbol: symbol, side: side,
            type: type,
            timeInForce: type == "MARKET" ? "GTC" : timeInForce, price: price ?? 0, origQty: qty, time: ms,
            updateTime: ms)
        // Walk the opposite side of the book, up to the limit price for limit orders.
        let isBuy = side == "BUY"
        var fills: [(price: Double, qty: Double)] = []
        var left = qty
        var level = 0
        while left > 0 && level < 1000 {
            let (p, q) = market.level(side: isBuy ? .ask : .bid, level)
            if let price, isBuy ? p > price : p < price { break }
            let take = min(left, q)
            fills.append((p, take))
            left = DecimalText.round(left - take, step: market.stepSize * 1e-3)
            level += 1
        }
        let filledQty = fills.reduce(0) { $0 + $1.qty }
        let filledQuote = fills.reduce(0) { $0 + $1.price * $1.qty }
        let fee = buyFeeInBase ? 0 : filledQuote * takerFee
        // Funds: buys pay quote (+ a quote fee), sells deliver base.
        let restingQty = type == "LIMIT" && timeInForce == "GTC" ? qty - filledQty : 0
        if isBuy {
            let need = filledQuote + fee + restingQty * (price ?? 0) * (1 + makerFee)
            guard (balances[market.quoteAsset]?.free ?? 0) + 1e-9 >= need else {
                throw Rejection(-2010, "Account has insufficient balance for requested action.")
            }
        } else {
            guard (balances[market.baseAsset]?.free ?? 0) + 1e-12 >= qty else {
                throw Rejection(-2010, "Account has insufficient balance for requested action.")
            }
        }
        if type == "LIMIT" && timeInForce == "FOK" && filledQty < qty { fills = [] }
        for fill in fills { apply(&order, market: market, price: fill.price, qty: fill.qty, maker: false, now: ms) }
        if order.executedQty >= qty - 1e-12 {
            order.status = .filled
        } else if type == "MARKET" || timeInForce != "GTC" {
            order.status = .expired
        } else {
            order.status = order.executedQty > 0 ? .partiallyFilled : .new
            order.locked = isBuy ? order.remaining * order.price * (1 + makerFee) : order.remaining
            move(isBuy ? market.quoteAsset : market.baseAsset, freeToLocked: order.locked)
            openOrderIDs.insert(order.orderId)
        }
        orders[order.orderId] = order
        orderByClientID[order.clientOrderId] = order.orderId
        nextOrderID += 1
        stats.ordersPlaced += 1
        persist(order, market)
        return order
    }

    private func apply(_ order: inout SimOrder, market: SimMarket, price: Double, qty: Double, maker: Bool, now: Int64)
    {
        let quote = price * qty
        let fee = quote * (maker ? makerFee : takerFee)
        let isBuy = order.side == "BUY"
        var commission = fee
        var commissionAsset = market.quoteAsset
        if isBuy {
            if maker { unlock(market.quoteAsset, quote * (1 + makerFee), from: &order) }
            if buyFeeInBase {
                // As Binance without BNB: the fee is taken from the asset bought.
                commission = qty * (maker ? makerFee : takerFee)
                commissionAsset = market.baseAsset
                balances[market.quoteAsset, default: SimBalance(free: 0, locked: 0)].free -= quote
                balances[market.baseAsset, default: SimBalance(free: 0, locked: 0)].free += qty - commission
            } else {
                balances[market.quoteAsset, default: SimBalance(free: 0, locked: 0)].free -= quote + fee
                balances[market.baseAsset, default: SimBalance(free: 0, locked: 0)].free += qty
            }
        } else {
            if maker { unlock(market.baseAsset, qty, from: &order) }
            balances[market.baseAsset, default: SimBalance(free: 0, locked: 0)].free -= qty
            balances[market.quoteAsset, default: SimBalance(free: 0, locked: 0)].free += quote - fee
        }
        let fill = SimFill(
            tradeId: nextTradeID, orderId: order.orderId, symbol: order.symbol, price: price, qty: qty,
            commission: commission, commissionAsset: commissionAsset, time: now, isBuyer: isBuy, isMaker: maker)
        nextTradeID += 1
        order.fills.append(fill)
        order.executedQty += qty
        order.cumulativeQuote += quote
        order.updateTime = now
        trades[order.symbol, default: []].append(fill)
    }

    private func move(_ asset: String, freeToLocked amount: Double) {
        balances[asset, default: SimBalance(free: 0, locked: 0)].free -= amount
        balances[asset, default: SimBalance(free: 0, locked: 0)].locked += amount
    }

    private func unlock(_ asset: String, _ amount: Double, from order: inout SimOrder) {
        let released = min(amount, order.locked)
        order.locked -= released
        balances[asset, default: SimBalance(free: 0, locked: 0)].locked -= released
        balances[asset, default: SimBalance(free: 0, locked: 0)].free += released
    }

    func cancel(symbol: String, orderId: Int64?, clientOrderId: String?, now: Double) throws(Rejection) -> SimOrder {
        guard let market = markets[symbol] else { throw Rejection(-1121, "Invalid symbol.") }
        guard let id = orderId ?? clientOrderId.flatMap({ orderByClientID[$0] }), var order = orders[id],
            order.symbol == symbol
        else {
            throw Rejection(-2011, "Unknown order sent.")
        }
        guard order.isOpen else { throw Rejection(-2011, "Unknown order sent.") }
        unlock(order.side == "BUY" ? market.quoteAsset : market.baseAsset, order.locked, from: &order)
        order.status = .canceled
        order.updateTime = Int64(now * 1000)
        orders[id] = order
        openOrderIDs.remove(id)
        persist(order, market)
        return order
    }

    func find(symbol: String, orderId: Int64?, clientOrderId: String?) -> SimOrder? {
        guard let id = orderId ?? clientOrderId.flatMap({ orderByClientID[$0] }), let order = orders[id],
            order.symbol == symbol
        else { return nil }
        return order
    }

    private func matchRestingOrders(now: Double) {
        let ms = Int64(now * 1000)
        for id in openOrderIDs.sorted() {
            guard var order = orders[id], let market = markets[order.symbol] else { continue }
            let crossed = order.side == "BUY" ? market.bestAsk <= order.price : market.bestBid >= order.price
            guard crossed else { continue }
            apply(&order, market: market, price: order.price, qty: order.remaining, maker: true, now: ms)
            // Whatever the rounding left locked goes back.
            unlock(order.side == "BUY" ? market.quoteAsset : market.baseAsset, order.locked, from: &order)
            order.status = .filled
            orders[id] = order
            openOrderIDs.remove(id)
            persist(order, market)
        }
    }
}

public struct SimError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
