import SystemKit

/// The POSIX TZ string at the end of a version 2+ TZif file (`CET-1CEST,M3.5.0,M10.5.0/3`): the
/// rule for instants past the file's last transition. Offsets are kept as seconds east of UTC
/// (POSIX writes them west, so `EST5` is −18,000).
public struct POSIXTimeZone: Equatable, Hashable, Sendable {
    public enum DateRule: Equatable, Hashable, Sendable {
        /// `Jn`: day 1…365, February 29 never counted.
        case julianNoLeap(Int)
        /// `n`: day 0…365, February 29 counted.
        case zeroBased(Int)
        /// `Mm.w.d`: weekday d (0 = Sunday) of week w (5 = last) of month m.
        case monthWeekDay(month: Int, week: Int, weekday: Int)
    }

    public struct Transition: Equatable, Hashable, Sendable {
        public var date: DateRule
        /// Local time of day of the change, in seconds (version 3 allows −167 h … 167 h).
        public var time: Int
    }

    public struct Daylight: Equatable, Hashable, Sendable {
        public var abbreviation: String
        public var offset: Int
        public var start: Transition
        public var end: Transition
    }

    public var abbreviation: String
    public var offset: Int
    public var daylight: Daylight?

    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "TZ string '\(text)': \(reason)" }
    }

    public init(parsing text: String) throws {
        var scanner = Scanner(Array(text.utf8))
        func fail(_ reason: String) -> ParseError { ParseError(text: text, reason: reason) }
        guard let std = scanner.abbreviation() else { throw fail("no standard-time name") }
        guard let stdWest = scanner.offset(maxHours: 24) else { throw fail("no offset after '\(std)'") }
        abbreviation = std
        offset = -stdWest
        guard !scanner.atEnd else { return }
        guard let dst = scanner.abbreviation() else { throw fail("bad daylight-time name") }
        var dstOffset = offset + 3600
        if !scanner.atEnd && scanner.peek != UInt8(ascii: ",") {
            guard let west = scanner.offset(maxHours: 24) else { throw fail("bad offset after '\(dst)'") }
            dstOffset = -west
        }
        var start = Transition(date: .monthWeekDay(month: 3, week: 2, weekday: 0), time: 7200)
        var end = Transition(date: .monthWeekDay(month: 11, week: 1, weekday: 0), time: 7200)
        if scanner.consume(UInt8(ascii: ",")) {
            guard let s = scanner.transition() else { throw fail("bad start rule") }
            guard scanner.consume(UInt8(ascii: ",")), let e = scanner.transition() else { throw fail("bad end rule") }
            start = s
            end = e
        }
        guard scanner.atEnd else { throw fail("unexpected text at byte \(scanner.index + 1)") }
        daylight = Daylight(abbreviation: dst, offset: dstOffset, start: start, end: end)
    }

    /// The UTC instants daylight time starts and ends in `year`.
    func changes(in year: Int) -> (start: Int64, end: Int64)? {
        guard let d = daylight else { return nil }
        let start = Self.day(d.start.date, year) * 86_400 + Int64(d.start.time) - Int64(offset)
        let end = Self.day(d.end.date, year) * 86_400 + Int64(d.end.time) - Int64(d.offset)
        return (start, end)
    }

    static func day(_ rule: DateRule, _ year: Int) -> Int64 {
        let jan1 = CivilCalendar.days(year: year, month: 1, day: 1)
        switch rule {
        case .julianNoLeap(let n):
            return jan1 + Int64(n - 1) + (n > 59 && CivilCalendar.isLeap(year) ? 1 : 0)
        case .zeroBased(let n):
            return jan1 + Int64(n)
        case .monthWeekDay(let month, let week, let weekday):
            let first = CivilCalendar.days(year: year, month: month, day: 1)
            var day = 1 + (weekday - CivilCalendar.weekday(days: first) + 7) % 7 + (week - 1) * 7
            let length = CivilCalendar.daysIn(month: month, year: year)
            while day > length { day -= 7 }
            return first + Int64(day - 1)
        }
    }

    /// The period the rule puts `instant` in: the last change at or before it and the first after
    /// it, among the changes of the year around it (no allocation: this runs on every evaluation).
    func period(containing instant: Int64) -> ZonePeriod {
        guard let d = daylight else {
            return ZonePeriod(start: .min, end: .max, offset: offset, isDaylight: false)
        }
        let year = CivilCalendar.civil(fromDays: CivilCalendar.floorDiv(instant + Int64(offset), 86_400)).year
        var last: (at: Int64, daylight: Bool) = (.min, false)
        var next = Int64.max
        func consider(_ at: Int64, _ isDaylight: Bool) {
            if at <= instant {
                if at > last.at { last = (at, isDaylight) }
            } else if at < next {
                next = at
            }
        }
        for y in (year - 1)...(year + 1) {
            guard let c = changes(in: y) else { continue }
            consider(c.start, true)
            consider(c.end, false)
        }
        return ZonePeriod(
            start: last.at, end: next, offset: last.daylight ? d.offset : offset, isDaylight: last.daylight)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func abbreviation() -> String? {
            let start = index
            if consume(UInt8(ascii: "<")) {
                while let c = peek, c != UInt8(ascii: ">") { index += 1 }
                guard consume(UInt8(ascii: ">")), index - start >= 5 else { return nil }
                return String(decoding: bytes[(start + 1)..<(index - 1)], as: UTF8.self)
            }
            while let c = peek, (c >= 65 && c <= 90) || (c >= 97 && c <= 122) { index += 1 }
            guard index - start >= 3 else { return nil }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func number(max: Int) -> Int? {
            var value = 0
            var digits = 0
            while let c = peek, c >= 48, c <= 57, digits < 3 {
                value = value * 10 + Int(c - 48)
                digits += 1
                index += 1
            }
            return digits > 0 && value <= max ? value : nil
        }

        /// `[+-]hh[:mm[:ss]]` in seconds.
        mutating func offset(maxHours: Int) -> Int? {
            var sign = 1
            if consume(UInt8(ascii: "-")) { sign = -1 } else { _ = consume(UInt8(ascii: "+")) }
            guard let h = number(max: maxHours) else { return nil }
            var seconds = h * 3600
            if consume(UInt8(ascii: ":")) {
                guard let m = number(max: 59) else { return nil }
                seconds += m * 60
                if consume(UInt8(ascii: ":")) {
                    guard let s = number(max: 59) else { return nil }
                    seconds += s
                }
            }
            return sign * seconds
        }

        mutating func transition() -> Transition? {
            let date: DateRule
            if consume(UInt8(ascii: "J")) {
                guard let n = number(max: 365), n >= 1 else { return nil }
                date = .julianNoLeap(n)
            } else if consume(UInt8(ascii: "M")) {
                guard let m = number(max: 12), m >= 1, consume(UInt8(ascii: ".")), let w = number(max: 5), w >= 1,
                    consume(UInt8(ascii: ".")), let d = number(max: 6)
                else { return nil }
                date = .monthWeekDay(month: m, week: w, weekday: d)
            } else {
                guard let n = number(max: 365) else { return nil }
                date = .zeroBased(n)
            }
            var time = 7200
            if consume(UInt8(ascii: "/")) {
                guard let t = offset(maxHours: 167) else { return nil }
                time = t
            }
            return Transition(date: date, time: time)
        }
    }
}
