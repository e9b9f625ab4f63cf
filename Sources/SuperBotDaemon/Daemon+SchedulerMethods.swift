import JSON
import RPC
import Schedule
import SuperBotConfig
import SystemKit

/// `scheduler.list` (jobs, next fire times in UTC and local time, last run) and `scheduler.run`.
extension Daemon {
    var schedulerMethods: MethodNamespace {
        MethodNamespace("scheduler", ["list", "run"]) { [unowned self] request, _, reply in
            switch request.method {
            case "scheduler.list":
                reply(.success(schedulerListing(count: param(request, "count")?.intValue ?? 5)))
            default:
                guard let name = param(request, "name")?.stringValue else {
                    return reply(.failure(.invalidParams("scheduler.run needs {\"name\": \"<job>\"}")))
                }
                guard config.schedule.jobs.contains(where: { $0.name == name }),
                    let action = scheduler.runNow(name, now: Daemon.now())
                else {
                    let names = config.schedule.jobs.map(\.name)
                    let hint = suggestion(for: name, in: names).map { "; did you mean '\($0)'?" } ?? ""
                    return reply(
                        .failure(
                            .notFound("no scheduled job named '\(name)'\(hint) (superbot-cli schedule lists them)")))
                }
                perform(action)
                armScheduler()
                switch action {
                case .skip(_, _, let why):
                    reply(.success(["job": .string(name), "status": "skipped", "why": .string(why)]))
                default: reply(.success(["job": .string(name), "status": "started"]))
                }
            }
        }
    }

    func schedulerListing(count: Int) -> JSON {
        let now = Daemon.now()
        let n = min(max(count, 1), 100)
        func times(_ instants: [Int64], _ zone: ZoneInfo) -> JSON {
            .array(instants.map { ["utc": .string(ISO8601.utc($0)), "local": .string(ISO8601.local($0, in: zone))] })
        }
        let jobs: [JSON] = config.schedule.jobs.map { job in
            let core = scheduler.state(of: job.name)
            let record = state.jobs[job.name]
            var action: [String: JSON] = ["type": .string(job.action.name)]
            switch job.action {
            case .start(let module), .stop(let module): action["module"] = .string(module)
            case .run(let module, let args):
                action["module"] = .string(module)
                action["args"] = .array(args.map { .string($0) })
            case .publish(let topic, _): action["topic"] = .string(topic)
            case .call(let method, _): action["method"] = .string(method)
            }
            var next = job.schedule.upcoming(after: now, count: n)
            if let pending = core?.next, next.first != pending { next = [pending] + next.prefix(n - 1) }
            return [
                "name": .string(job.name), "schedule": .string(job.schedule.expression.source),
                "timezone": .string(job.schedule.zone.name), "action": .object(action),
                "catch_up": .bool(job.catchUp), "overlap": .string(job.overlap.rawValue),
                "next": times(next, job.schedule.zone),
                "last_fire": record?.lastFire.map { .string(ISO8601.utc($0)) } ?? .null,
                "last_run": record?.lastRun.map { .string(Clock.iso8601($0)) } ?? .null,
                "last_result": record?.result.map { .string($0) } ?? .null,
                "last_detail": record?.detail.map { .string($0) } ?? .null,
                "running": .bool(core?.running ?? false),
            ]
        }
        var trading: JSON = .null
        if let window = config.schedule.tradingWindow {
            let zone = window.opens.zone
            var t: [String: JSON] = [
                "module": .string(window.module), "window": .string(window.description),
                "open": .bool(window.isOpen(at: now)),
            ]
            if let edge = window.nextEdge(after: now) {
                t["next_edge"] = [
                    "utc": .string(ISO8601.utc(edge.at)), "local": .string(ISO8601.local(edge.at, in: zone)),
                    "opens": .bool(edge.opens),
                ]
            }
            if let o = scheduler.override {
                t["override"] = [
                    "module_wanted": .string(o.open ? "running" : "stopped"),
                    "until": o.until.map { .string(ISO8601.local($0, in: zone)) } ?? .null,
                ]
            }
            trading = .object(t)
        }
        return [
            "timezone": .string(config.schedule.zone.name), "now": .string(ISO8601.utc(now)), "jobs": .array(jobs),
            "trading_hours": trading,
            "next_wake": scheduler.nextWake.map { .string(ISO8601.utc($0)) } ?? .null,
        ]
    }
}
