import SystemKit

/// ISO 8601 instants as market data writes them, without Foundation: `2024-01-31`,
/// `2024-01-31T10:00`, `2024-01-31 10:00:00.250Z`, `2024-01-31T10:00:00+02:00`. A time
/// without a zone is UTC (exchanges and pandas exports write UTC).
public enum ISO8601Time {
    /// Milliseconds since the epoch, or nil when `text` is not such an instant.
    public static func parse(_ text: some Collection<UInt8>) -> Int64? {
        var p = Array(text)[...]
        func digits(_ n: Int) -> Int? {
            guard p.count >= n else { return nil }
            var v = 0
            for b in p.prefix(n) {
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(b - UInt8(ascii: "0"))
            }
            p = p.dropFirst(n)
            return v
        }
        func take(_ c: Character) -> Bool {
            guard p.first == c.asciiValue else { return false }
            p = p.dropFirst()
            return true
        }
        guard let year = digits(4), take("-"), let month = digits(2), take("-"), let day = digits(2),
            (1...12).contains(month), day >= 1, day <= CivilCalendar.daysIn(month: month, year: year)
        else { return nil }
        var seconds = 0
        var millis = 0
        if take("T") || take(" ") {
            guard let h = digits(2), take(":"), let m = digits(2), h < 24, m < 60 else { return nil }
            seconds = h * 3600 + m * 60
            if take(":") {
                guard let s = digits(2), s < 60 else { return nil }
                seconds += s
                if take(".") {
                    var scale = 100
                    var any = false
                    while let b = p.first, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                        millis += Int(b - UInt8(ascii: "0")) * scale
                        scale /= 10
                        any = true
                        p = p.dropFirst()
                    }
                    guard any else { return nil }
                }
            }
            if take("Z") {
            } else if let sign = p.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                p = p.dropFirst()
                guard let oh = digits(2), oh < 24 else { return nil }
                _ = take(":")
                guard let om = digits(2), om < 60 else { return nil }
                seconds -= (sign == UInt8(ascii: "+") ? 1 : -1) * (oh * 3600 + om * 60)
            }
        }
        guard p.isEmpty else { return nil }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        return (days * 86_400 + Int64(seconds)) * 1000 + Int64(millis)
    }

    /// `2024-01-31T10:00:00Z` (with `.250` when there are milliseconds).
    public static func format(ms: Int64) -> String {
        let (days, rest) = ms.quotientAndRemainder(dividingBy: 86_400_000)
        let d = rest < 0 ? days - 1 : days
        let r = rest < 0 ? rest + 86_400_000 : rest
        let (y, m, day) = CivilCalendar.civil(fromDays: d)
        let s = Int(r / 1000)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var text = "\(y)-\(two(m))-\(two(day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))"
        if r % 1000 != 0 {
            let frac = String(r % 1000)
            text += "." + String(repeating: "0", count: 3 - frac.count) + frac
        }
        return text + "Z"
    }
}
