/// Binance's request-weight limit: each endpoint costs a weight; the weight used in the current
/// fixed window is reported on every answer, and a request over the limit gets 429 + Retry-After.
public struct WeightLimiter: Sendable {
    public let limit: Int
    public let window: Double
    public private(set) var used = 0
    private var windowIndex: Int64 = -1

    public init(limit: Int, window: Double) {
        self.limit = limit
        self.window = window
    }

    public enum Decision: Equatable, Sendable {
        case allowed(used: Int)
        /// Seconds until the window resets.
        case limited(retryAfter: Int, used: Int)
    }

    public mutating func admit(weight: Int, now: Double) -> Decision {
        let index = Int64((now / window).rounded(.down))
        if index != windowIndex {
            windowIndex = index
            used = 0
        }
        if used + weight > limit {
            let reset = Double(index + 1) * window
            return .limited(retryAfter: max(1, Int((reset - now).rounded(.up))), used: used)
        }
        used += weight
        return .allowed(used: used)
    }
}
