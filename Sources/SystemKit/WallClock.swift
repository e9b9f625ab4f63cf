/// Where code that reasons about calendar time (UTC days, bar times) gets "now": the system clock
/// live, a manual or simulated one in tests and backtests.
public protocol WallClock: Sendable {
    /// Seconds since the Unix epoch.
    func now() -> Double
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Double { Clock.wall() }
}
