import Schedule
import Testing

/// Fire times across DST changes, as cronie runs them: a fixed time in a skipped hour runs once
/// right after the jump, a fixed time in a repeated hour runs once (first pass), and jobs that
/// follow the clock run at every local minute that exists.
struct DSTTests {
    @Test func newYorkSpringForwardAndFallBack() throws {
        let fixed = try schedule("30 2 * * *", "America/New_York")
        #expect(
            nextLocal(fixed, after: "2026-03-07T12:00:00Z", 3) == [
                "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00",
            ])
        let repeated = try schedule("30 1 * * *", "America/New_York")
        #expect(
            nextLocal(repeated, after: "2026-10-31T12:00:00Z", 2) == [
                "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00",
            ])
        let hourly = try schedule("30 * * * *", "America/New_York")
        #expect(
            nextLocal(hourly, after: "2026-11-01T04:00:00Z", 3) == [
                "2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00",
            ])
        #expect(
            nextLocal(hourly, after: "2026-03-08T06:00:00Z", 2) == [
                "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00",
            ])
    }

    @Test func berlinBothWays() throws {
        let fixed = try schedule("0 2 * * *", "Europe/Berlin")
        #expect(
            nextLocal(fixed, after: "2026-03-28T12:00:00Z", 2) == [
                "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00",
            ])
        let twoThirty = try schedule("30 2 * * *", "Europe/Berlin")
        #expect(
            nextLocal(twoThirty, after: "2026-10-24T12:00:00Z", 2) == [
                "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00",
            ])
        let quarter = try schedule("*/15 2 * * *", "Europe/Berlin")
        #expect(
            nextLocal(quarter, after: "2026-10-24T23:50:00Z", 9) == [
                "2026-10-25T02:00:00+02:00", "2026-10-25T02:15:00+02:00", "2026-10-25T02:30:00+02:00",
                "2026-10-25T02:45:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00",
                "2026-10-25T02:30:00+01:00", "2026-10-25T02:45:00+01:00", "2026-10-26T02:00:00+01:00",
            ])
        // A fixed-time job with several times in the skipped hour still runs once at the jump.
        let several = try schedule("0,30 2 * * *", "Europe/Berlin")
        #expect(
            nextLocal(several, after: "2026-03-28T23:00:00Z", 2) == [
                "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00",
            ])
    }

    @Test func sydneySouthernHemisphere() throws {
        let fixed = try schedule("30 2 * * *", "Australia/Sydney")
        #expect(
            nextLocal(fixed, after: "2026-10-03T00:00:00Z", 2) == [
                "2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00",
            ])
        #expect(
            nextLocal(fixed, after: "2026-04-04T00:00:00Z", 2) == [
                "2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00",
            ])
    }

    @Test func istanbulHasNoDSTSince2016AndUTCNever() throws {
        let nine = try schedule("0 9 * * *", "Europe/Istanbul")
        #expect(
            nextLocal(nine, after: "2026-03-28T00:00:00Z", 2) == [
                "2026-03-28T09:00:00+03:00", "2026-03-29T09:00:00+03:00",
            ])
        // 2015: Turkey still changed clocks (Sunday 29 March, 03:00 → 04:00).
        let three = try schedule("30 3 * * *", "Europe/Istanbul")
        #expect(
            nextLocal(three, after: "2015-03-28T12:00:00Z", 2) == [
                "2015-03-29T04:00:00+03:00", "2015-03-30T03:30:00+03:00",
            ])
        let utc = try schedule("0 0 29 2 *", "UTC")
        #expect(
            nextLocal(utc, after: "2026-01-01T00:00:00Z", 2) == [
                "2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00",
            ])
    }

    /// `previous(before:)` walks back through the same fire times `next(after:)` walks forward.
    @Test(arguments: ["Europe/Istanbul", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"])
    func previousMirrorsNext(_ zoneName: String) throws {
        for expression in ["30 2 * * *", "*/20 1-3 * * *", "0 0 31 * *", "15 1 * 3,10 0", "0 12 1 * 1", "@hourly"] {
            let s = try schedule(expression, zoneName)
            let forward = s.upcoming(after: at("2026-01-01T00:00:00Z"), count: 400)
            for i in forward.indices.dropFirst() {
                #expect(
                    s.previous(before: forward[i]) == forward[i - 1],
                    "\(zoneName) \(expression) at \(ISO8601.utc(forward[i]))")
            }
        }
    }

    @Test func domAndDowAreORedWhenBothRestrictedANDedOtherwise() throws {
        let either = try schedule("0 0 13 * 5", "UTC")
        #expect(
            nextLocal(either, after: "2026-02-01T00:00:00Z", 4) == [
                "2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00", "2026-02-20T00:00:00+00:00",
                "2026-02-27T00:00:00+00:00",
            ])
        // A field written with '*' (even */2) counts as unrestricted, so this one is ANDed.
        let both = try schedule("0 0 */2 * 5", "UTC")
        #expect(
            nextLocal(both, after: "2026-02-01T00:00:00Z", 2) == [
                "2026-02-13T00:00:00+00:00", "2026-02-27T00:00:00+00:00",
            ])
    }
}
