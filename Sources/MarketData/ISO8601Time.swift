import SystemKit

/// ISO 8601 instants as market data writes them, without Foundation: `2024-01-31`,
/// `2024-01-31T10:00`, `2024-01-31 10:00:00.250Z`, `2024-01-31T10:00:00+02:00`. A time
/// without a zone is UTC (exchanges and pandas exports write UTC).
public enum ISO8601Time {
    /// Milliseconds since the epoch, or nil when `text` is not such an instant.
    public static func parse(_ text: some Collection<UInt8>) -> Int64? {
        guard let f = ISO8601Fields(text, fractions: true) else { return nil }
        return (f.civilSeconds - Int64(f.offset ?? 0)) * 1000 + Int64(f.millis)
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
