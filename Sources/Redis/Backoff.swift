/// Exponential backoff with full jitter (AWS's "full jitter"): attempt n waits a random time
/// in [0, min(cap, base × 2ⁿ)], so clients that lost one server do not come back in step.
public struct Backoff: Sendable, Equatable {
    public let base: Double
    public let cap: Double
    public private(set) var attempt = 0

    public init(base: Double = 0.1, cap: Double = 5) {
        self.base = base
        self.cap = cap
    }

    /// The delay before the next attempt; `unit` is a uniform draw in [0, 1).
    public mutating func next(unit: Double) -> Double {
        let ceiling = min(cap, base * Double(1 << min(attempt, 30)))
        attempt += 1
        return ceiling * unit
    }

    public mutating func reset() { attempt = 0 }
}
