import ExchangeModel
import Synchronization
import SystemKit

/// The client side of the exchange's request-weight limit: it follows the weight the exchange
/// reports (`X-MBX-USED-WEIGHT-1M`), holds requests back before the limit is reached, and after
/// a 429 holds every request until `Retry-After` has passed. It keeps a tenth of the limit in
/// reserve for clock skew at window boundaries.
public final class WeightBudget: Sendable {
    struct State {
        var limit: Int
        var window: Double
        var used = 0
        var windowIndex: Int64 = -1
        var blockedUntil = 0.0
        var waits = 0
        var rateLimited = 0
    }

    private let state: Mutex<State>

    public init(limit: Int = 6000, window: Double = 60) {
        state = Mutex(State(limit: limit, window: window))
    }

    public func configure(limit: Int, window: Double) {
        state.withLock {
            $0.limit = max(1, limit)
            $0.window = max(0.1, window)
            // The weight already used stays counted in the window as the exchange defines it.
            $0.windowIndex = Int64((Clock.wall() / $0.window).rounded(.down))
        }
    }

    public var limit: Int { state.withLock { $0.limit } }
    /// Times a request waited for budget, and 429s seen.
    public var counters: (waits: Int, rateLimited: Int) { state.withLock { ($0.waits, $0.rateLimited) } }

    /// Waits until `weight` fits in the current window (and any 429 back-off has passed), then takes it.
    public func acquire(_ weight: Int) async throws {
        while true {
            let wait = state.withLock { s -> Double in
                let now = Clock.wall()
                if now < s.blockedUntil { return s.blockedUntil - now }
                roll(&s, now)
                // A tenth of the limit stays in reserve: a request sent just before the window
                // turns may be counted by the exchange in the next one.
                if s.used + weight > s.limit - max(1, s.limit / 10) && s.used > 0 {
                    return Double(s.windowIndex + 1) * s.window - now + 0.01
                }
                s.used += weight
                return 0
            }
            if wait <= 0 { return }
            state.withLock { $0.waits += 1 }
            try await Task.sleep(for: .seconds(min(wait, 60)))
        }
    }

    /// The exchange's own count for this window wins over ours.
    public func observe(usedWeight: Int) {
        state.withLock { s in
            roll(&s, Clock.wall())
            s.used = max(s.used, usedWeight)
        }
    }

    public func block(retryAfter: Double) {
        state.withLock { s in
            s.rateLimited += 1
            s.blockedUntil = max(s.blockedUntil, Clock.wall() + retryAfter)
        }
    }

    private func roll(_ s: inout State, _ now: Double) {
        let index = Int64((now / s.window).rounded(.down))
        if index != s.windowIndex {
            s.windowIndex = index
            s.used = 0
        }
    }
}
