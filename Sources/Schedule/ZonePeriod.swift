/// A stretch of time with one UTC offset: `[start, end)` in UTC seconds (`Int64.min`/`.max` when open).
public struct ZonePeriod: Equatable, Sendable {
    public var start: Int64
    public var end: Int64
    /// Seconds east of UTC.
    public var offset: Int
    public var isDaylight: Bool
}
