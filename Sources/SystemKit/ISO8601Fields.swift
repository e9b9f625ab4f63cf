/// The fields of an ISO 8601 date-time as written, range-checked:
/// `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH[:]MM]`. What a time without an offset means is the
/// caller's: UTC for market data, a zone's local time for the scheduler.
public struct ISO8601Fields: Equatable, Sendable {
    public var year = 0
    public var month = 0
    public var day = 0
    public var hour = 0
    public var minute = 0
    public var second = 0
    public var millis = 0
    /// Seconds east of UTC; nil when the text names no offset.
    public var offset: Int?

    /// nil when `text` is not such a date-time; fractions of a second only when `fractions`.
    public init?(_ text: some Collection<UInt8>, fractions: Bool) {
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
        (self.year, self.month, self.day) = (year, month, day)
        if take("T") || take(" ") {
            guard let h = digits(2), take(":"), let m = digits(2), h < 24, m < 60 else { return nil }
            (hour, minute) = (h, m)
            if take(":") {
                guard let s = digits(2), s < 60 else { return nil }
                second = s
                if fractions, take(".") {
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
        }
        if take("Z") || take("z") {
            offset = 0
        } else if let sign = p.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            p = p.dropFirst()
            guard let oh = digits(2), oh < 24 else { return nil }
            _ = take(":")
            guard let om = digits(2), om < 60 else { return nil }
            offset = (sign == UInt8(ascii: "+") ? 1 : -1) * (oh * 3600 + om * 60)
        }
        guard p.isEmpty else { return nil }
    }

    /// Seconds since the epoch of the written date and time read as UTC (the offset not applied).
    public var civilSeconds: Int64 {
        CivilCalendar.days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
