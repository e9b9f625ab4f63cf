import JSON
import Schedule
import SystemKit
import Testing

/// Our evaluator against croniter (PyPI, in `.build/test-venv`, installed by `make test-deps`) on
/// seeded generated expressions × zones × start instants, including the DST weeks of each zone,
/// Feb 29 and month ends. croniter is asked Vixie's question for the day fields (`day_or=False`
/// where Vixie ANDs, see the oracle); across DST changes the two differ by design (we follow
/// cronie, which `DSTTests` pins), so those cases are counted, not compared.
struct CroniterDifferentialTests {
    static let root = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/")).withLeadingSlash
    static let python = root + "/.build/test-venv/bin/python"

    @Test func nextFireTimesMatchCroniter() throws {
        #expect(
            FileSystem.exists(Self.python),
            "croniter is missing: run `make test-deps` (creates .build/test-venv with croniter)")
        guard FileSystem.exists(Self.python) else { return }
        let output = try run(Self.python, [Self.root + "/Tests/ScheduleTests/croniter_oracle.py", "400"])
        var compared = 0
        var dst = 0
        for line in output.split(separator: "\n") {
            let entry = try JSON.parse(Array(line.utf8))
            let text = entry["expr"]!.stringValue!
            let tz = entry["tz"]!.stringValue!
            let start = entry["start"]!.int64Value!
            let expression = try CronExpression(parsing: text)
            let s = CronSchedule(expression, zone: try zone(tz))
            guard let expected = entry["next"]?.arrayValue?.compactMap(\.int64Value) else {
                Issue.record("croniter refused '\(text)': \(entry["error"]?.stringValue ?? "?")")
                continue
            }
            let ours = s.upcoming(after: start, count: expected.count)
            compared += 1
            guard ours != expected else { continue }
            // Across a DST change: both must be right by cronie's rules instead (DSTTests).
            let last = max(ours.last ?? start, expected.last ?? start)
            if s.zone.period(containing: start).end <= last {
                dst += 1
                continue
            }
            Issue.record(
                "'\(text)' in \(tz) after \(ISO8601.utc(start)): croniter \(expected.map(ISO8601.utc)) ours \(ours.map(ISO8601.utc))"
            )
        }
        print("croniter: \(compared) cases compared; \(dst) across a DST change follow cronie instead")
        #expect(compared >= 1000)
        // The exceptions stay exceptions: most cases agree outright.
        #expect(dst < compared / 20, "\(dst) of \(compared) cases differ across a DST change")
    }
}

extension String {
    var withLeadingSlash: String { hasPrefix("/") ? self : "/" + self }
}
