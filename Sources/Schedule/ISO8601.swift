import SystemKit

/// ISO 8601 instants as the scheduler prints and reads them: `2026-03-29T01:00:00Z` for UTC,
/// `2026-03-29T03:00:00+03:00` for a zone's local time.
public enum ISO8601 {
    public static func utc(_ instant: Int64) -> String { CivilTime(seconds: instant).description + "Z" }

    public static func local(_ instant: Int64, in zone: ZoneInfo) -> String {
        let offset = zone.offset(at: instant)
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return CivilTime(seconds: instant + Int64(offset)).description
            + "\(sign)\(pad(minutes / 60)):\(pad(minutes % 60))"
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not an ISO 8601 time; write 2026-03-29T01:30:00Z, 2026-03-29T01:30+02:00 or 2026-03-29T01:30 (local)"
        }
    }

    /// Parses `YYYY-MM-DD[THH:MM[:SS]][Z|±HH:MM]`; without an offset the time is local to `zone`
    /// (the first of two readings in a repeated hour, the moment after the jump in a skipped one).
    public static func parse(_ text: String, zone: ZoneInfo) throws -> Int64 {
        let bytes = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= bytes.count else { return nil }
            var n = 0
            for b in bytes[i..<(i + digits)] {
                guard b >= 48 && b <= 57 else { return nil }
                n = n * 10 + Int(b - 48)
            }
            i += digits
            return n
        }
        func expect(_ c: Character) -> Bool {
            guard i < bytes.count, bytes[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        let fail = ParseError(text: text)
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            (1...12).contains(month), (1...CivilCalendar.daysIn(month: month, year: year)).contains(day)
        else { throw fail }
        var hour = 0
        var minute = 0
        var second = 0
        if expect("T") || expect(" ") {
            guard let h = number(2), expect(":"), let m = number(2), h < 24, m < 60 else { throw fail }
            hour = h
            minute = m
            if expect(":") {
                guard let s = number(2), s < 60 else { throw fail }
                second = s
            }
        }
        let local = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second).seconds
        if i == bytes.count {
            let readings = zone.instants(showing: local)
            if let first = readings.first { return first }
            return zone.period(containing: local - Int64(zone.offset(at: local - 86_400))).start
        }
        if expect("Z") || expect("z") {
            guard i == bytes.count else { throw fail }
            return local
        }
        let sign: Int64
        if expect("+") { sign = 1 } else if expect("-") { sign = -1 } else { throw fail }
        guard let oh = number(2), oh <= 23 else { throw fail }
        _ = expect(":")
        guard let om = number(2), om < 60, i == bytes.count else { throw fail }
        return local - sign * Int64(oh * 3600 + om * 60)
    }
}
