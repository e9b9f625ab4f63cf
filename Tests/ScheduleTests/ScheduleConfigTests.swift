import Schedule
import SuperBotConfig
import Testing

/// `daemon.schedule` in daemon.yaml: what it builds, and mistakes reported with file:line:column.
struct ScheduleConfigTests {
    static let modules = """
        daemon:
          modules:
            trading: {command: trading-engine}
            backtest: {command: backtest, restart: never}
            worker: {command: superbot-fixture}

        """

    func parse(_ schedule: String) throws -> DaemonConfig {
        try DaemonConfig.parse(Self.modules + "  schedule:\n" + schedule, file: "daemon.yaml", baseDirectory: "/tmp")
    }

    func error(_ schedule: String) -> String {
        do {
            _ = try parse(schedule)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func theOriginalKeysAndJobs() throws {
        let config = try parse(
            """
                timezone: "Europe/Istanbul"
                trading_hours: true
                trading_start: "09:30"
                trading_stop: "17:45"
                trading_days: [1, 2, 3]
                daily_backtest: {enabled: true, cron: "0 2 * * *", strategy: sma}
                weekly_report: {enabled: true}
                jobs:
                  nightly-stop: {at: "23:00", action: stop, module: worker, timezone: America/New_York}
                  ping: {cron: "*/5 * * * *", action: publish, topic: ops.ping, data: {a: 1}}
                  reload: {cron: "@daily", action: call, method: daemon.reload_config, catch_up: true, overlap: queue}
            """)
        let s = config.schedule
        #expect(s.zone.name == "Europe/Istanbul")
        #expect(s.tradingWindow?.module == "trading" && s.tradingWindow?.days == [1, 2, 3])
        #expect(s.jobs.map(\.name) == ["daily_backtest", "weekly_report", "nightly-stop", "ping", "reload"])
        #expect(s.jobs[0].action == .run(module: "backtest", args: ["--strategy", "sma"]))
        #expect(s.jobs[1].action == .publish(topic: "report.weekly", data: ["report": "weekly"]))
        #expect(s.jobs[2].schedule.zone.name == "America/New_York" && s.jobs[2].schedule.expression.hours == 1 << 23)
        #expect(s.jobs[4].catchUp && s.jobs[4].overlap == .queue)
        #expect(try parse("    timezone: UTC\n").schedule.tradingWindow == nil)
    }

    @Test func mistakesNameTheLineAndSuggest() {
        #expect(error("    timezone: Europe/Istambul\n").contains("daemon.yaml:7:15"))
        #expect(error("    timezone: Europe/Istambul\n").contains("did you mean 'Europe/Istanbul'?"))
        #expect(
            error("    jobs:\n      x: {cron: \"61 * * * *\", action: publish, topic: a.b}\n").contains(
                "minute '61' at column 1: out of range 0-59"))
        #expect(
            error("    jobs:\n      x: {action: publish, topic: a.b}\n").contains(
                "needs 'cron' (5 fields) or 'at' (HH:MM)"))
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", at: \"09:00\", action: publish, topic: a.b}\n").contains(
                "cannot be combined"))
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", action: start, module: wroker}\n").contains(
                "did you mean 'worker'?"))
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", action: run, module: worker}\n").contains(
                "needs 'restart: never'"))
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", action: publsh, topic: a.b}\n").contains(
                "did you mean 'publish'?"))
        #expect(error("    jobs:\n      x: {cron: \"* * * * *\", action: publish, topic: \"a.*\"}\n") != "accepted")
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", action: call}\n").contains(
                "method' is required for action 'call'"))
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", action: publish, topic: a.b, overlap: never}\n").contains(
                "must be one of skip, queue, restart"))
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", action: publish, topic: a.b, catchup: true}\n").contains(
                "did you mean 'catch_up'?"))
        #expect(
            error("    jobs:\n      x: {cron: \"* * * * *\", action: call, method: logs.stream}\n").contains(
                "cannot be 'logs.stream'"))
        #expect(error("    trading_hours: true\n    trading_days: [0]\n").contains("ISO weekdays 1 (Monday)"))
        #expect(error("    trading_hours: true\n    trading_start: \"9h\"\n").contains("HH:MM"))
        #expect(
            error("    trading_hours: true\n    trading_start: \"10:00\"\n    trading_stop: \"10:00\"\n").contains(
                "must differ"))
        #expect(error("    daily_backtest: {enabled: true, module: worker}\n").contains("needs 'restart: never'"))
        #expect(error("    timezone: UTC\n    tradinghours: true\n").contains("did you mean 'trading_hours'?"))
    }
}
