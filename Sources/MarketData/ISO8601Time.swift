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
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
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
        let days = daysFromCivil(year: year, month: month, day: day)
        return (Int64(days) * 86_400 + Int64(seconds)) * 1000 + Int64(millis)
    }

    /// `2024-01-31T10:00:00Z` (with `.250` when there are milliseconds).
    public static func format(ms: Int64) -> String {
        let (days, rest) = ms.quotientAndRemainder(dividingBy: 86_400_000)
        let d = rest < 0 ? days - 1 : days
        let r = rest < 0 ? rest + 86_400_000 : rest
        let (y, m, day) = civil(fromDays: Int(d))
        let s = Int(r / 1000)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var text = "\(y)-\(two(m))-\(two(day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))"
        if r % 1000 != 0 {
            let frac = String(r % 1000)
            text += "." + String(repeating: "0", count: 3 - frac.count) + frac
        }
        return text + "Z"
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(fromDays z: Int) -> (year: Int, month: Int, day: Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
