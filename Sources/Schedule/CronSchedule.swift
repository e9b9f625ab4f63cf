/// A cron expression in a time zone: fire instants as pure functions of an instant, with DST as
/// cronie handles it. A fixed-time job (minute and hour both fixed) whose local time is skipped
/// by a forward jump fires once at the jump; in a repeated hour it fires on the first pass only.
/// A job that follows the clock (`*` or `*/n` in minute or hour) fires at every local minute
/// that exists, in both passes of a repeated hour.
public struct CronSchedule: Equatable, Hashable, Sendable {
    public let expression: CronExpression
    public let zone: ZoneInfo

    /// How far ahead (or back) to look before concluding the expression never fires: Feb 29 on a
    /// given weekday can be 28 years away, a plain Feb 29 eight.
    static let horizon: Int64 = 29 * 366 * 86_400

    public init(_ expression: CronExpression, zone: ZoneInfo) {
        self.expression = expression
        self.zone = zone
    }

    /// The first fire instant strictly after `instant` (UTC seconds), or nil if there is none.
    public func next(after instant: Int64) -> Int64? { next(after: instant, near: nil)?.instant }

    /// `next(after:)`, reusing `near` (the period the previous fire time fell in) when it still
    /// holds, so walking a sequence looks the zone up once per period, not once per fire time.
    func next(after instant: Int64, near: ZonePeriod?) -> (instant: Int64, period: ZonePeriod)? {
        let fixed = !expression.followsClock
        let limit = instant + Self.horizon
        var from = instant + 1
        var period = near.flatMap { $0.start <= from && from < $0.end ? $0 : nil } ?? zone.period(containing: from)
        while period.start < limit {
            // The period before matters only to a fixed-time job within a day of this one's start.
            let nearStart = period.start != .min && from < period.start + 27 * 3600
            let previous = fixed && nearStart ? zone.period(containing: period.start - 1) : nil
            if fixed, let previous, period.start >= from, period.offset > previous.offset,
                expression.firstMatch(
                    from: period.start + Int64(previous.offset), before: period.start + Int64(period.offset)) != nil
            {
                return (period.start, period)
            }
            var localFrom = from + Int64(period.offset)
            if fixed, let previous, previous.offset > period.offset {
                localFrom = max(localFrom, period.start + Int64(previous.offset))
            }
            let localEnd = min(period.end, limit) + Int64(period.offset)
            if let local = expression.firstMatch(from: localFrom, before: localEnd) {
                return (local - Int64(period.offset), period)
            }
            guard period.end != .max else { return nil }
            from = period.end
            period = zone.period(containing: period.end)
        }
        return nil
    }

    /// The last fire instant strictly before `instant`, or nil if there is none.
    public func previous(before instant: Int64) -> Int64? {
        let fixed = !expression.followsClock
        let limit = instant - Self.horizon
        var to = instant
        var period = zone.period(containing: instant - 1)
        while period.end > limit {
            let previous = period.start == .min ? nil : zone.period(containing: period.start - 1)
            var localFloor = max(period.start, limit) + Int64(period.offset)
            if fixed, let previous, previous.offset > period.offset {
                localFloor = max(localFloor, period.start + Int64(previous.offset))
            }
            if let local = expression.lastMatch(before: to + Int64(period.offset), notBefore: localFloor) {
                return local - Int64(period.offset)
            }
            if fixed, let previous, period.start < to, period.offset > previous.offset,
                expression.firstMatch(
                    from: period.start + Int64(previous.offset), before: period.start + Int64(period.offset)) != nil
            {
                return period.start
            }
            guard let previous else { return nil }
            to = period.start
            period = previous
        }
        return nil
    }

    /// The next `count` fire instants after `instant`.
    public func upcoming(after instant: Int64, count: Int) -> [Int64] {
        var out: [Int64] = []
        var t = instant
        var period: ZonePeriod?
        while out.count < count, let next = next(after: t, near: period) {
            out.append(next.instant)
            t = next.instant
            period = next.period
        }
        return out
    }
}
