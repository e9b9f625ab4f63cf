import SystemKit

/// A 5-field cron expression (minute hour day-of-month month day-of-week) as Vixie cron reads it:
/// `*`, lists, ranges, steps on `*` or a range, month and weekday names, Sunday as 0 or 7, and
/// day-of-month OR day-of-week when both are restricted (a field written starting with `*` counts
/// as unrestricted). Matching works on a zone-less local clock; `CronSchedule` adds the zone.
public struct CronExpression: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var minutes: UInt64
    public var hours: UInt32
    /// Bits 1…31.
    public var daysOfMonth: UInt32
    /// Bits 1…12.
    public var months: UInt16
    /// Bits 0…6, Sunday = 0.
    public var daysOfWeek: UInt8
    public var minuteStar, hourStar, dayOfMonthStar, dayOfWeekStar: Bool
    /// The text it was parsed from (or an equivalent one for `HH:MM` times).
    public let source: String

    /// A job that is not at a fixed time of day: cron's `MIN_STAR|HR_STAR`. Across DST changes fixed
    /// times run once (skipped hour: right after the jump; repeated hour: first pass) while
    /// wildcard jobs follow the clock.
    public var followsClock: Bool { minuteStar || hourStar }

    public var description: String { source }

    /// Every day at `hour:minute`, on `weekdays` (0 = Sunday … 6; empty = every day).
    public init(hour: Int, minute: Int, weekdays: Set<Int> = [], source: String? = nil) {
        minutes = 1 << UInt64(minute)
        hours = 1 << UInt32(hour)
        daysOfMonth = UInt32(truncatingIfNeeded: CronField.dayOfMonth.allBits)
        months = UInt16(truncatingIfNeeded: CronField.month.allBits)
        daysOfWeek = weekdays.isEmpty ? 0x7F : weekdays.reduce(0) { $0 | UInt8(1) << UInt8($1 % 7) }
        minuteStar = false
        hourStar = false
        dayOfMonthStar = true
        dayOfWeekStar = weekdays.isEmpty
        self.source =
            source
            ?? "\(minute) \(hour) * * \(weekdays.isEmpty ? "*" : weekdays.sorted().map(String.init).joined(separator: ","))"
    }

    static let aliases: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Parses 5 cron fields, an `@daily`-style alias, or an `HH:MM` time of day.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingSpaces
        if trimmed.contains(":") && !trimmed.contains(" ") {
            let (hour, minute) = try CronExpression.timeOfDay(
                trimmed, column: text.prefix { $0 == " " || $0 == "\t" }.count + 1)
            self.init(hour: hour, minute: minute, source: trimmed)
            return
        }
        if trimmed.hasPrefix("@") {
            guard let expansion = CronExpression.aliases[trimmed.lowercased()] else {
                let column = text.prefix { $0 == " " || $0 == "\t" }.count + 1
                throw CronError(
                    field: nil, value: trimmed, column: column,
                    "unknown alias; use one of @yearly, @monthly, @weekly, @daily, @hourly or 5 fields")
            }
            self = try CronExpression(parsing: expansion, source: trimmed)
            return
        }
        self = try CronExpression(parsing: text, source: trimmed)
    }

    private init(parsing text: String, source: String) throws {
        var tokens: [(text: Substring, column: Int)] = []
        var column = 1
        var start: String.Index?
        var startColumn = 0
        for index in text.indices {
            let c = text[index]
            if c == " " || c == "\t" {
                if let s = start { tokens.append((text[s..<index], startColumn)) }
                start = nil
            } else if start == nil {
                start = index
                startColumn = column
            }
            column += 1
        }
        if let s = start { tokens.append((text[s...], startColumn)) }
        guard tokens.count == 5 else {
            let at = tokens.count > 5 ? tokens[5].column : column
            throw CronError(
                field: nil, value: String(text.trimmingSpaces), column: at,
                "expected 5 fields (minute hour day-of-month month day-of-week), got \(tokens.count)")
        }
        let fields = try zip(CronField.allCases, tokens).map { field, token in
            try field.parse(token.text, column: token.column)
        }
        minutes = fields[0].bits
        hours = UInt32(truncatingIfNeeded: fields[1].bits)
        daysOfMonth = UInt32(truncatingIfNeeded: fields[2].bits)
        months = UInt16(truncatingIfNeeded: fields[3].bits)
        daysOfWeek = UInt8(truncatingIfNeeded: fields[4].bits)
        minuteStar = fields[0].star
        hourStar = fields[1].star
        dayOfMonthStar = fields[2].star
        dayOfWeekStar = fields[4].star
        self.source = source
        if dayOfWeekStar && !dayOfMonthStar {
            let possible = (1...12).contains { month in
                months & (1 << UInt16(month)) != 0
                    && (1...CivilCalendar.daysIn(month: month, year: 2000)).contains {
                        daysOfMonth & (1 << UInt32($0)) != 0
                    }
            }
            if !possible {
                throw CronError(
                    field: "day-of-month", value: String(tokens[2].text), column: tokens[2].column,
                    "never occurs in the months selected ('\(tokens[3].text)'), so the job would never run")
            }
        }
    }

    /// `HH:MM` (24-hour clock, `9:30` or `09:30`).
    public static func timeOfDay(_ text: String, column: Int = 1) throws -> (hour: Int, minute: Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        func digits(_ s: Substring, _ count: ClosedRange<Int>) -> Int? {
            count.contains(s.count) && s.allSatisfy { $0.isASCII && $0.isNumber } ? Int(s) : nil
        }
        guard parts.count == 2, let hour = digits(parts[0], 1...2), let minute = digits(parts[1], 2...2) else {
            throw CronError(field: "time", value: text, column: column, "must be HH:MM on a 24-hour clock, e.g. 09:30")
        }
        guard hour < 24 else {
            throw CronError(field: "hour", value: String(parts[0]), column: column, "out of range 0-23")
        }
        guard minute < 60 else {
            throw CronError(
                field: "minute", value: String(parts[1]), column: column + parts[0].count + 1, "out of range 0-59")
        }
        return (hour, minute)
    }

    // MARK: Matching on the local clock

    /// Days are chosen by day-of-month alone (day-of-week unrestricted), so a search can jump.
    var onlyDayOfMonth: Bool { dayOfWeekStar && !dayOfMonthStar }

    func matchesDay(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        let dom = daysOfMonth & (1 << UInt32(day)) != 0
        let dow = daysOfWeek & (1 << UInt8(weekday)) != 0
        return dayOfMonthStar || dayOfWeekStar ? dom && dow : dom || dow
    }

    public func matches(_ time: CivilTime) -> Bool {
        time.second == 0 && minutes & (1 << UInt64(time.minute)) != 0 && hours & (1 << UInt32(time.hour)) != 0
            && months & (1 << UInt16(time.month)) != 0
            && matchesDay(year: time.year, month: time.month, day: time.day, weekday: time.weekday)
    }

    /// The first matching minute at or after `from` and before `limit`, on the zone-less clock.
    public func firstMatch(from: Int64, before limit: Int64) -> Int64? {
        var t = CivilCalendar.floorDiv(from + 59, 60) * 60
        while t < limit {
            let days = CivilCalendar.floorDiv(t, 86_400)
            let (y, m, d) = CivilCalendar.civil(fromDays: days)
            let dayStart = days * 86_400
            if months & (1 << UInt16(m)) == 0 {
                t = (days - Int64(d) + 1 + Int64(CivilCalendar.daysIn(month: m, year: y))) * 86_400
                continue
            }
            if !matchesDay(year: y, month: m, day: d, weekday: CivilCalendar.weekday(days: days)) {
                if onlyDayOfMonth {
                    // Only the day of the month decides: jump to its next day (or the next month).
                    let length = CivilCalendar.daysIn(month: m, year: y)
                    let next = Self.nextBit(UInt64(daysOfMonth), after: d, max: length) ?? length + 1
                    t = dayStart + Int64(next - d) * 86_400
                } else {
                    t = dayStart + 86_400
                }
                continue
            }
            let seconds = Int(t - dayStart)
            let h = seconds / 3600
            if hours & (1 << UInt32(h)) == 0 {
                t =
                    Self.nextBit(UInt64(hours), after: h, max: 23).map { dayStart + Int64($0 * 3600) } ?? dayStart
                    + 86_400
                continue
            }
            let minute = seconds % 3600 / 60
            if minutes & (1 << UInt64(minute)) == 0 {
                let hourStart = dayStart + Int64(h * 3600)
                t = Self.nextBit(minutes, after: minute, max: 59).map { hourStart + Int64($0 * 60) } ?? hourStart + 3600
                continue
            }
            return t
        }
        return nil
    }

    /// The last matching minute before `before` and at or after `floor`, on the zone-less clock.
    public func lastMatch(before: Int64, notBefore floor: Int64) -> Int64? {
        var t = CivilCalendar.floorDiv(before - 1, 60) * 60
        while t >= floor {
            let days = CivilCalendar.floorDiv(t, 86_400)
            let (y, m, d) = CivilCalendar.civil(fromDays: days)
            let dayStart = days * 86_400
            if months & (1 << UInt16(m)) == 0 {
                t = (days - Int64(d) + 1) * 86_400 - 60
                continue
            }
            if !matchesDay(year: y, month: m, day: d, weekday: CivilCalendar.weekday(days: days)) {
                let previous = onlyDayOfMonth ? Self.previousBit(UInt64(daysOfMonth), before: d) ?? 0 : d - 1
                t = dayStart - Int64(d - previous - 1) * 86_400 - 60
                continue
            }
            let seconds = Int(t - dayStart)
            let h = seconds / 3600
            if hours & (1 << UInt32(h)) == 0 {
                t =
                    Self.previousBit(UInt64(hours), before: h).map { dayStart + Int64($0 * 3600 + 59 * 60) } ?? dayStart
                    - 60
                continue
            }
            let minute = seconds % 3600 / 60
            if minutes & (1 << UInt64(minute)) == 0 {
                let hourStart = dayStart + Int64(h * 3600)
                t = Self.previousBit(minutes, before: minute).map { hourStart + Int64($0 * 60) } ?? hourStart - 60
                continue
            }
            return t
        }
        return nil
    }

    static func nextBit(_ bits: UInt64, after index: Int, max: Int) -> Int? {
        guard index < max else { return nil }
        let rest = bits >> UInt64(index + 1)
        guard rest != 0 else { return nil }
        let found = index + 1 + rest.trailingZeroBitCount
        return found <= max ? found : nil
    }

    static func previousBit(_ bits: UInt64, before index: Int) -> Int? {
        guard index > 0 else { return nil }
        let rest = bits & ((1 << UInt64(index)) - 1)
        return rest == 0 ? nil : 63 - rest.leadingZeroBitCount
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
