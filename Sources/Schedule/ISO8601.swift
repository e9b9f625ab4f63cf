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
        guard let f = ISO8601Fields(Array(text.utf8), fractions: false) else { throw ParseError(text: text) }
        let local = f.civilSeconds
        guard let offset = f.offset else {
            let readings = zone.instants(showing: local)
            if let first = readings.first { return first }
            return zone.period(containing: local - Int64(zone.offset(at: local - 86_400))).start
        }
        return local - Int64(offset)
    }
}
