import JSON
import Schedule
import SystemKit

/// `schedule` (the daemon's jobs), `schedule run NAME`, and `schedule next EXPR`, which evaluates
/// an expression here, without a daemon, like `systemd-analyze calendar --iterations`.
struct ScheduleCommand: CLICommand {
    static let verbs = ["schedule"]
    enum What {
        case list
        case run(String)
        case next(expression: String, zone: String, after: String?, count: Int, lastOnly: Bool)
    }
    let what: What

    init(verb: String, arguments: [String]) throws(UsageError) {
        let usage =
            "usage: schedule | schedule run NAME | schedule next EXPR [--tz ZONE] [--after ISO8601] [-n N] [--last]"
        switch arguments.first {
        case nil: what = .list
        case "run":
            guard arguments.count == 2 else { throw UsageError(usage) }
            what = .run(arguments[1])
        case "next":
            var rest = arguments.dropFirst()
            var expression: String?
            var zone = "UTC"
            var after: String?
            var count = 5
            var lastOnly = false
            while let arg = rest.popFirst() {
                switch arg {
                case "--last": lastOnly = true
                case "--tz", "--after", "-n":
                    guard let value = rest.popFirst() else { throw UsageError("\(arg) needs a value") }
                    if arg == "--tz" {
                        zone = value
                    } else if arg == "--after" {
                        after = value
                    } else {
                        guard let n = Int(value), (1...10_000_000).contains(n) else {
                            throw UsageError("-n needs a count between 1 and 10000000")
                        }
                        count = n
                    }
                default:
                    guard expression == nil else {
                        throw UsageError(
                            "give the expression as one argument, quoted: schedule next '*/15 9-17 * * 1-5'")
                    }
                    expression = arg
                }
            }
            guard let expression else { throw UsageError(usage) }
            what = .next(expression: expression, zone: zone, after: after, count: count, lastOnly: lastOnly)
        default: throw UsageError(usage)
        }
    }

    func run(_ session: CLISession) throws -> ExitCode {
        switch what {
        case .list:
            let result = try session.call("scheduler.list")
            session.show(result) { Table.schedule($0) }
        case .run(let name):
            let result = try session.call("scheduler.run", ["name": .string(name)])
            session.show(result) { r in
                "\(name): \(r["status"]?.stringValue ?? "?")" + (r["why"]?.stringValue.map { " (\($0))" } ?? "")
            }
        case .next(let text, let zoneName, let after, let count, let lastOnly):
            return evaluate(
                text, zoneName: zoneName, after: after, count: count, lastOnly: lastOnly, json: session.json)
        }
        return .ok
    }

    /// Invalid input exits 2 with the error, as a usage error does.
    func evaluate(_ text: String, zoneName: String, after: String?, count: Int, lastOnly: Bool, json: Bool)
        -> ExitCode
    {
        let zone: ZoneInfo
        let expression: CronExpression
        let start: Int64
        do {
            zone = try ZoneDirectory().zone(named: zoneName)
            expression = try CronExpression(parsing: text)
            start = try after.map { try ISO8601.parse($0, zone: zone) } ?? Int64(Clock.wall().rounded(.down))
        } catch {
            CLISession.printError("superbot-cli: schedule next: \(error)")
            return .usage
        }
        var times = CronSchedule(expression, zone: zone).upcoming(after: start, count: count)
        if lastOnly { times = times.suffix(1) }
        if json {
            let out: JSON = [
                "expression": .string(expression.source), "timezone": .string(zone.name),
                "next": .array(times.map { .string(ISO8601.utc($0)) }),
            ]
            print(out.serialized())
        } else {
            print("  Original form: \(text)")
            print("      Time zone: \(zone.name)")
            if times.isEmpty { print("    Next elapse: never") }
            for (i, t) in times.enumerated() {
                let label = i == 0 ? "    Next elapse" : "       Iter. #\(i + 1)"
                print("\(label): \(ISO8601.local(t, in: zone))  (\(ISO8601.utc(t)))")
            }
        }
        return .ok
    }
}
