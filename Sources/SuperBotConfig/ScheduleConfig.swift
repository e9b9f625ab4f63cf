import Bus
import JSON
import Schedule
import SystemKit
import YAML

/// `daemon.schedule`: the time zone, trading hours, the original's `daily_backtest` and
/// `weekly_report`, and `jobs.<name>`, each with its cron expression already parsed and its zone
/// already read, so a bad schedule fails at load time with file:line:column.
public struct ScheduleConfig: Equatable, Sendable {
    public struct Job: Equatable, Sendable {
        public enum Action: Equatable, Sendable {
            case start(module: String)
            case stop(module: String)
            /// Start a `restart: never` module once, with these arguments after its own.
            case run(module: String, args: [String])
            case publish(topic: String, data: JSON)
            case call(method: String, params: JSON)

            public var name: String {
                switch self {
                case .start: return "start"
                case .stop: return "stop"
                case .run: return "run"
                case .publish: return "publish"
                case .call: return "call"
                }
            }
        }

        public var name: String
        public var schedule: CronSchedule
        public var action: Action
        public var catchUp: Bool
        public var overlap: SchedulerCore.Overlap

        public var coreJob: SchedulerCore.Job {
            var lasts = false
            if case .run = action { lasts = true }
            return SchedulerCore.Job(name: name, schedule: schedule, catchUp: catchUp, overlap: overlap, lasts: lasts)
        }
    }

    public var zone: ZoneInfo
    /// Nil unless `trading_hours: true`.
    public var tradingWindow: TradingWindow?
    public var jobs: [Job]

    public static let empty = ScheduleConfig(zone: .utc, tradingWindow: nil, jobs: [])

    static let keys = [
        "timezone", "trading_hours", "trading_module", "trading_start", "trading_stop", "trading_days",
        "daily_backtest", "weekly_report", "jobs",
    ]
    static let jobKeys = [
        "cron", "at", "timezone", "action", "module", "args", "topic", "data", "method", "params", "catch_up",
        "overlap", "enabled",
    ]

    static func parse(_ s: MappingReader, modules: [ModuleSpec], directory: ZoneDirectory = ZoneDirectory()) throws
        -> ScheduleConfig
    {
        var zones: [String: ZoneInfo] = [:]
        func zone(_ reader: MappingReader, _ key: String, default fallback: ZoneInfo?) throws -> ZoneInfo {
            guard let name = try reader.optionalString(key) else { return fallback ?? .utc }
            if let known = zones[name] { return known }
            do {
                let z = try directory.zone(named: name)
                zones[name] = z
                return z
            } catch {
                throw reader.error(key, "names \(error)")
            }
        }
        let defaultZone = try zone(s, "timezone", default: nil)
        let names = modules.map(\.name)
        func module(_ reader: MappingReader, _ key: String, default fallback: String? = nil) throws -> ModuleSpec {
            guard let name = try reader.optionalString(key) ?? fallback else {
                throw reader.error(key, "is required for this action (the module to act on)")
            }
            guard let spec = modules.first(where: { $0.name == name }) else {
                let hint = suggestion(for: name, in: names).map { "; did you mean '\($0)'?" } ?? ""
                throw reader.error(key, "names unknown module '\(name)'\(hint)")
            }
            return spec
        }
        func time(_ key: String, default fallback: String) throws -> (hour: Int, minute: Int) {
            let text = try s.string(key, default: fallback)
            do { return try CronExpression.timeOfDay(text) } catch { throw s.error(key, "\(error)") }
        }

        var window: TradingWindow?
        if try s.bool("trading_hours", default: false) {
            let target = try module(s, "trading_module", default: "trading")
            let start = try time("trading_start", default: "09:00")
            let stop = try time("trading_stop", default: "18:00")
            guard start != stop else { throw s.error("trading_stop", "must differ from trading_start") }
            var days: Set<Int> = []
            let listed = s.has("trading_days") ? try s.stringList("trading_days") : ["1", "2", "3", "4", "5"]
            for text in listed {
                guard let day = Int(text), (1...7).contains(day) else {
                    throw s.error("trading_days", "entries must be ISO weekdays 1 (Monday) … 7 (Sunday), got '\(text)'")
                }
                days.insert(day)
            }
            guard !days.isEmpty else { throw s.error("trading_days", "must list at least one day") }
            window = TradingWindow(module: target.name, start: start, stop: stop, days: days, zone: defaultZone)
        }

        func cron(_ reader: MappingReader, _ key: String) throws -> CronExpression {
            let text = try reader.string(key, default: "")
            do {
                return try CronExpression(parsing: text)
            } catch {
                throw reader.error(key, "\(error)")
            }
        }

        var jobs: [Job] = []
        let backtest = try s.child("daily_backtest", allowed: ["enabled", "cron", "strategy", "module", "args"])
        if try backtest.bool("enabled", default: false) {
            let target = try module(backtest, "module", default: "backtest")
            try requireRunOnce(target, backtest, "module")
            let args =
                ["--strategy", try backtest.string("strategy", default: "default")] + (try backtest.stringList("args"))
            jobs.append(
                Job(
                    name: "daily_backtest",
                    schedule: CronSchedule(
                        backtest.has("cron") ? try cron(backtest, "cron") : try CronExpression(parsing: "0 2 * * *"),
                        zone: defaultZone),
                    action: .run(module: target.name, args: args), catchUp: false, overlap: .skip))
        }
        let report = try s.child("weekly_report", allowed: ["enabled", "cron", "topic"])
        if try report.bool("enabled", default: false) {
            let topic = try report.string("topic", default: "report.weekly")
            try validTopic(topic, report, "topic")
            jobs.append(
                Job(
                    name: "weekly_report",
                    schedule: CronSchedule(
                        report.has("cron") ? try cron(report, "cron") : try CronExpression(parsing: "0 0 * * 0"),
                        zone: defaultZone),
                    action: .publish(topic: topic, data: ["report": "weekly"]), catchUp: false, overlap: .skip))
        }

        if let jobsNode = s.value("jobs") {
            guard let pairs = jobsNode.mapping else {
                throw ConfigError(s.file, jobsNode, "'\(s.path).jobs' must be a mapping of job names")
            }
            for pair in pairs {
                let name = pair.key.scalarText ?? ""
                guard DaemonConfig.isValidName(name) else {
                    throw ConfigError(
                        s.file, pair.key,
                        "job name '\(name)' must be letters, digits, '-' or '_' (it names a bus topic)")
                }
                guard !jobs.contains(where: { $0.name == name }) else {
                    throw ConfigError(s.file, pair.key, "job name '\(name)' is used twice")
                }
                let j = try MappingReader(pair.value, file: s.file, path: "\(s.path).jobs.\(name)", allowed: jobKeys)
                guard try j.bool("enabled", default: true) else { continue }
                let expression: CronExpression
                switch (j.has("cron"), j.has("at")) {
                case (true, false): expression = try cron(j, "cron")
                case (false, true):
                    let text = try j.string("at", default: "")
                    do {
                        let (hour, minute) = try CronExpression.timeOfDay(text)
                        expression = CronExpression(hour: hour, minute: minute, source: text)
                    } catch {
                        throw j.error("at", "\(error)")
                    }
                case (true, true): throw j.error("at", "cannot be combined with 'cron'; give one of them")
                case (false, false):
                    throw ConfigError(
                        s.file, pair.value, "job '\(name)' needs 'cron' (5 fields) or 'at' (HH:MM) to say when it runs")
                }
                let action: Job.Action
                guard j.has("action") else {
                    throw ConfigError(
                        s.file, pair.value, "job '\(name)' needs an 'action': start, stop, run, publish or call")
                }
                let kind = try j.oneOf("action", ["start", "stop", "run", "publish", "call"], default: "")
                switch kind {
                case "start": action = .start(module: try module(j, "module").name)
                case "stop": action = .stop(module: try module(j, "module").name)
                case "run":
                    let target = try module(j, "module")
                    try requireRunOnce(target, j, "module")
                    action = .run(module: target.name, args: try j.stringList("args"))
                case "publish":
                    guard let topic = try j.optionalString("topic") else {
                        throw j.error("topic", "is required for action 'publish'")
                    }
                    try validTopic(topic, j, "topic")
                    action = .publish(topic: topic, data: j.value("data").map(ConfigDocument.json) ?? .object([:]))
                default:
                    guard let method = try j.optionalString("method"), method.contains(".") else {
                        throw j.error("method", "is required for action 'call' (a method name like module.restart)")
                    }
                    guard !["bus.subscribe", "logs.stream", "auth.login"].contains(method) else {
                        throw j.error(
                            "method", "cannot be '\(method)' (a job has no connection to stream to)")
                    }
                    let params = j.value("params").map(ConfigDocument.json) ?? .object([:])
                    guard params.objectValue != nil || params.arrayValue != nil else {
                        throw j.error("params", "must be a mapping or a list (JSON-RPC params)")
                    }
                    action = .call(method: method, params: params)
                }
                jobs.append(
                    Job(
                        name: name,
                        schedule: CronSchedule(expression, zone: try zone(j, "timezone", default: defaultZone)),
                        action: action, catchUp: try j.bool("catch_up", default: false),
                        overlap: SchedulerCore.Overlap(
                            rawValue: try j.oneOf(
                                "overlap", SchedulerCore.Overlap.allCases.map(\.rawValue), default: "skip"))!))
            }
        }
        return ScheduleConfig(zone: defaultZone, tradingWindow: window, jobs: jobs)
    }

    static func requireRunOnce(_ spec: ModuleSpec, _ reader: MappingReader, _ key: String) throws {
        guard spec.restart == .never else {
            throw reader.error(
                key,
                "runs module '\(spec.name)' once, so that module needs 'restart: never' (it has '\(spec.restart.rawValue)')"
            )
        }
    }

    static func validTopic(_ topic: String, _ reader: MappingReader, _ key: String) throws {
        do { try Topic.validate(topic) } catch { throw reader.error(key, "\(error)") }
    }
}
