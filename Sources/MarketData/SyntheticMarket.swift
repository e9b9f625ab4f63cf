/// The simulator's market for one symbol: the seeded price path on the symbol's tick grid, one
/// simulated second per step, with a steady synthetic volume. exchange-sim trades on it and the
/// backtester's `--synthetic` bars come from it, so both see the same prices for a seed.
public struct SyntheticMarket: Sendable {
    /// Starting prices and volatilities of well-known bases, so default paths look familiar.
    public static let defaults: [String: (price: Double, volatility: Double)] = [
        "BTC": (65_000, 0.6), "ETH": (3_400, 0.75), "BNB": (580, 0.7), "SOL": (150, 1.0), "XRP": (0.6, 0.9),
        "ADA": (0.45, 0.95), "DOGE": (0.15, 1.1), "AVAX": (35, 1.0), "DOT": (7, 0.9), "LINK": (15, 0.95),
        "MATIC": (0.7, 1.0), "LTC": (80, 0.8), "TRX": (0.12, 0.7), "ATOM": (9, 0.9), "UNI": (8, 1.0),
    ]
    /// What a base not in `defaults` starts from.
    public static let fallback = (price: 10.0, volatility: 0.8)

    public static func tick(for price: Double) -> Double {
        price >= 1000 ? 0.01 : price >= 10 ? 0.01 : price >= 1 ? 0.001 : 0.0001
    }

    public static func step(for price: Double) -> Double {
        price >= 10_000 ? 0.00001 : price >= 100 ? 0.0001 : price >= 1 ? 0.01 : 1
    }

    public let tickSize: Double
    public let stepSize: Double
    private var model: PriceModel
    public private(set) var lastPrice: Double

    public init(seed: UInt64, symbol: String, price: Double, volatility: Double, tickSize: Double, stepSize: Double) {
        self.tickSize = tickSize
        self.stepSize = stepSize
        model = PriceModel(seed: seed, symbol: symbol, price: price, annualVolatility: volatility)
        lastPrice = DecimalText.round(price, step: tickSize)
    }

    /// The market of a spot symbol (`BTCUSDT`) from the defaults of its base asset.
    public init(seed: UInt64, symbol: String, base: String) {
        let known = SyntheticMarket.defaults[base] ?? SyntheticMarket.fallback
        self.init(
            seed: seed, symbol: symbol, price: known.price, volatility: known.volatility,
            tickSize: SyntheticMarket.tick(for: known.price), stepSize: SyntheticMarket.step(for: known.price))
    }

    /// One simulated second: the new traded price, never below one tick.
    public mutating func nextSecond() -> Double {
        lastPrice = max(DecimalText.round(model.next(), step: tickSize), tickSize)
        return lastPrice
    }

    /// Base volume traded in one second at the last price.
    public var secondVolume: Double { DecimalText.round(250 / lastPrice, step: stepSize) }

    /// `count` bars of `seconds` each, the first opening at `startMs`, built second by second.
    public mutating func bars(count: Int, seconds: Int64, startMs: Int64) -> [Bar] {
        var out: [Bar] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            var bar = Bar(time: startMs + Int64(i) * seconds * 1000, price: lastPrice)
            for _ in 0..<seconds {
                bar.add(price: nextSecond(), volume: secondVolume)
            }
            out.append(bar)
        }
        return out
    }
}
