import Glibc

/// A reproducible price path: geometric Brownian motion whose drift and volatility switch
/// between market regimes (calm, trending up, trending down, turbulent) as a Markov chain.
/// One step is one simulated second; the path is a pure function of (seed, symbol).
public struct PriceModel: Sendable {
    public enum Regime: Int, Sendable, CaseIterable {
        case calm, bull, bear, turbulent
        /// (annual drift, volatility multiplier)
        var shape: (drift: Double, volatility: Double) {
            switch self {
            case .calm: (0, 0.6)
            case .bull: (1.5, 1.0)
            case .bear: (-1.5, 1.1)
            case .turbulent: (0, 2.2)
            }
        }
    }

    public private(set) var price: Double
    public private(set) var regime: Regime = .calm
    public private(set) var step: Int64 = 0
    private var random: SeededRandom
    private let sigma: Double
    /// Chance per step of leaving the current regime (mean regime length ≈ 30 simulated minutes).
    private let switchProbability = 1.0 / 1800

    public init(seed: UInt64, symbol: String, price: Double, annualVolatility: Double) {
        self.price = price
        random = SeededRandom(seed: seed, stream: symbol)
        sigma = annualVolatility
    }

    /// Advances one simulated second and returns the new price.
    public mutating func next() -> Double {
        step += 1
        if random.unit() < switchProbability {
            regime = Regime(rawValue: Int(random.next() % UInt64(Regime.allCases.count)))!
        }
        let secondsPerYear = 365.0 * 24 * 3600
        let dt = 1 / secondsPerYear
        let vol = sigma * regime.shape.volatility
        let drift = regime.shape.drift
        price *= exp((drift - vol * vol / 2) * dt + vol * dt.squareRoot() * random.gaussian())
        return price
    }
}
