import SystemKit

/// A calendar date and time of day without a zone (proleptic Gregorian), and the day arithmetic
/// the evaluator needs, on plain integers (Howard Hinnant's `days_from_civil`), so no calendar
/// object or locale is ever involved.
public struct CivilTime: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// `seconds` since 1970-01-01T00:00:00 on the same (zone-less) clock.
    public init(seconds: Int64) {
        let days = CivilCalendar.floorDiv(seconds, 86_400)
        let rest = Int(seconds - days * 86_400)
        let (y, m, d) = CivilCalendar.civil(fromDays: days)
        self.init(year: y, month: m, day: d, hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60)
    }

    public var seconds: Int64 {
        CivilCalendar.days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// 0 = Sunday … 6 = Saturday, as cron counts.
    public var weekday: Int { CivilCalendar.weekday(days: CivilCalendar.days(year: year, month: month, day: day)) }

    public var description: String {
        func pad(_ n: Int, _ width: Int = 2) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month))-\(pad(day))T\(pad(hour)):\(pad(minute)):\(pad(second))"
    }
}
