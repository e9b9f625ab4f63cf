import MarketData

public enum Signal: String, Sendable, Equatable { case buy, sell, hold }

/// A trading rule fed one bar at a time. Live engines and the backtester drive the same
/// implementations, so the same bars give the same signals in both.
public protocol Strategy: Sendable {
    var name: String { get }
    /// Bars needed before the first signal.
    var warmupBars: Int { get }
    /// Bars before every indicator has a value (backtesting.py's warmup: where buy & hold starts).
    var indicatorBars: Int { get }
    mutating func update(_ bar: Bar) -> Signal
    /// Whether the bars seen so far call for holding a long (nil until it can tell). A restarted
    /// engine compares this with its position, since a crossover may have passed while it was down.
    var wantsLong: Bool? { get }
}

/// Simple moving-average crossover: buy when the fast average crosses above the slow one,
/// sell when it crosses below. O(1) per bar (running sums over ring buffers).
public struct SMACrossover: Strategy {
    public let fast: Int
    public let slow: Int
    private var fastWindow: RollingMean
    private var slowWindow: RollingMean
    private var previousDiff: Double?

    public init(fast: Int, slow: Int) {
        precondition(fast >= 1 && slow > fast, "SMA crossover needs 1 ≤ fast < slow")
        self.fast = fast
        self.slow = slow
        fastWindow = RollingMean(count: fast)
        slowWindow = RollingMean(count: slow)
    }

    public var name: String { "sma_crossover(\(fast),\(slow))" }
    public var warmupBars: Int { slow + 1 }
    public var indicatorBars: Int { slow - 1 }

    public var wantsLong: Bool? {
        guard let f = fastWindow.mean, let s = slowWindow.mean, f != s else { return nil }
        return f > s
    }

    public mutating func update(_ bar: Bar) -> Signal {
        fastWindow.add(bar.close)
        slowWindow.add(bar.close)
        guard let f = fastWindow.mean, let s = slowWindow.mean else { return .hold }
        let diff = f - s
        defer { previousDiff = diff }
        guard let previous = previousDiff else { return .hold }
        if previous <= 0 && diff > 0 { return .buy }
        if previous >= 0 && diff < 0 { return .sell }
        return .hold
    }
}

/// The mean of the last `count` values.
struct RollingMean: Sendable {
    let count: Int
    private var values: [Double] = []
    private var next = 0
    private var sum = 0.0
    private var sinceResum = 0

    init(count: Int) {
        self.count = count
        values.reserveCapacity(count)
    }

    mutating func add(_ value: Double) {
        if values.count < count {
            values.append(value)
            sum += value
        } else {
            sum += value - values[next]
            values[next] = value
            next += 1
            if next == count { next = 0 }
        }
        // Re-sum now and then so floating-point drift never accumulates.
        sinceResum += 1
        if sinceResum == 10_000 {
            sinceResum = 0
            sum = values.reduce(0, +)
        }
    }

    var mean: Double? { values.count == count ? sum / Double(count) : nil }
}
