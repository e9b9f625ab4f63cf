import Glibc
import JSON
import RPC
import SuperBotTesting
import SystemKit
import Testing

/// The scheduler in a real daemon with real processes: a missed stop caught up at start-up, a
/// start fired by the wall-clock timer at the next minute, a run-once module with arguments, and
/// the CLI's view of it all.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SchedulerIntegrationTests {
    @Test func jobsStopAndStartAModuleAndRunOneOnce() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                worker:
                  command: superbot-fixture
                  start_seconds: 0
                once:
                  command: superbot-fixture
                  args: [--exit-after, "0.2"]
                  restart: never
                  start_seconds: 0
              autostart: [worker]
              schedule:
                timezone: UTC
                jobs:
                  stop-worker: {cron: "0 0 1 1 *", action: stop, module: worker, catch_up: true}
                  start-worker: {cron: "* * * * *", action: start, module: worker}
                  run-once: {cron: "0 0 1 1 *", action: run, module: once, args: [--code, "3"]}
            """)
        // The stop job's last fire was two years ago: a fire time (Jan 1) was missed while down.
        try FileSystem.makeDirectories(h.runDir)
        let longAgo = Int64(Clock.wall()) - 2 * 366 * 86_400
        try FileSystem.writeAtomically(
            h.runDir + "/state.json",
            Array(
                #"{"operator_stopped": [], "scheduler": {"stop-worker": {"since": \#(longAgo), "last_fire": \#(longAgo)}}}"#
                    .utf8))
        // Start just after a minute boundary so that the catch-up stop settles long before the next fire.
        while Int(Clock.wall()) % 60 > 45 || Int(Clock.wall()) % 60 < 1 { Clock.sleep(0.5) }
        try h.startDaemon()
        #expect(waitUntil(15) { h.state("worker") == "stopped" && lastResult(h, "stop-worker") == "finished" })
        // The every-minute start fires from the timer, within the next minute.
        #expect(waitUntil(70) { h.state("worker") == "running" && lastResult(h, "start-worker") == "finished" })

        // Run once with arguments: the module exits with code 3, so the run failed.
        let run = try h.call("scheduler.run", ["name": "run-once"])
        #expect(run["status"]?.stringValue == "started")
        #expect(waitUntil(10) { lastResult(h, "run-once") == "failed" })
        let listing = try h.call("scheduler.list")
        let once = listing["jobs"]?.arrayValue?.first { $0["name"]?.stringValue == "run-once" }
        #expect(once?["last_detail"]?.stringValue?.contains("code 3") == true)
        #expect(once?["next"]?.arrayValue?.count == 5)
        #expect(once?["next"]?.arrayValue?.first?["utc"]?.stringValue?.hasSuffix("-01-01T00:00:00Z") == true)

        // The CLI lists the jobs; an unknown one is a clear error.
        let table = h.cli(["schedule"])
        #expect(table.code == 0)
        #expect(table.output.contains("start-worker") && table.output.contains("trading hours: off"))
        let unknown = h.cli(["schedule", "run", "stop-workr"])
        #expect(unknown.code == 1 && unknown.output.contains("did you mean 'stop-worker'?"))
        // Every run is in the daemon log, and the last fires are kept for the next start.
        let state = try JSON.parse(try FileSystem.readFile(h.runDir + "/state.json"))
        #expect(state["scheduler"]?["start-worker"]?["last_fire"]?.int64Value != nil)
        #expect(state["scheduler"]?["stop-worker"]?["last_fire"]?.int64Value ?? 0 > longAgo)
        let logs = FileSystem.listDirectory(h.dir + "/logs").filter { $0.hasPrefix("daemon") }
        let log = try logs.map { try FileSystem.readString(h.dir + "/logs/" + $0) }.joined()
        #expect(log.contains("scheduler job started") && log.contains("catch-up"))
        #expect(h.stopDaemon() == 0)
    }

    @Test func scheduleNextNeedsNoDaemonAndRejectsBadInput() throws {
        let h = try Harness("daemon:\n  modules: {}\n")
        let next = h.cli([
            "--json", "schedule", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--after", "2026-03-28T12:00:00Z",
            "-n", "2",
        ])
        #expect(next.code == 0)
        let json = try JSON.parse(Array(next.output.utf8))
        #expect(json["next"] == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        #expect(json["timezone"] == "Europe/Berlin")
        let bad = h.cli(["schedule", "next", "*/0 * * * *"])
        #expect(bad.code == 2 && bad.output.contains("minute '0' at column 3: the step must be between 1 and 59"))
        let zone = h.cli(["schedule", "next", "@daily", "--tz", "Mars/Olympus"])
        #expect(zone.code == 2 && zone.output.contains("unknown time zone"))
    }
}

private func lastResult(_ h: Harness, _ job: String) -> String? {
    let listing = try? h.call("scheduler.list")
    return listing?["jobs"]?.arrayValue?.first { $0["name"]?.stringValue == job }?["last_result"]?.stringValue
}

/// Trading hours with real processes and the real clock: a window that opens at the next minute
/// and closes at the one after.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct TradingHoursIntegrationTests {
    @Test func theWindowStartsAndStopsTheModuleAndAnOperatorWinsUntilTheEdge() throws {
        // Start early in a minute, so that the window's first edge is a comfortable minute away.
        while Int(Clock.wall()) % 60 > 40 || Int(Clock.wall()) % 60 < 1 { Clock.sleep(0.5) }
        let now = Int(Clock.wall())
        func hhmm(_ t: Int) -> String {
            let minutes = t / 60 % 1440
            return String(format2(minutes / 60)) + ":" + format2(minutes % 60)
        }
        let open = (now / 60 + 1) * 60
        let close = open + 60
        let h = try Harness(
            """
            daemon:
              modules:
                trading:
                  command: superbot-fixture
                  start_seconds: 0
              autostart: [trading]
              schedule:
                timezone: UTC
                trading_hours: true
                trading_start: "\(hhmm(open))"
                trading_stop: "\(hhmm(close))"
                trading_days: [1, 2, 3, 4, 5, 6, 7]
            """)
        try h.startDaemon()
        // Outside the window: autostart leaves it down, and says why.
        Clock.sleep(0.5)
        #expect(h.state("trading") == "stopped")
        let listing = try h.call("scheduler.list")
        #expect(listing["trading_hours"]?["open"] == false)
        #expect(listing["trading_hours"]?["next_edge"]?["opens"] == true)
        // The window opens: the module starts.
        #expect(waitUntil(75) { h.state("trading") == "running" })
        #expect(Int(Clock.wall()) >= open)
        // An operator stop inside the window stands until the close, and the CLI says so.
        let stop = h.cli(["stop", "trading"])
        #expect(stop.code == 0)
        #expect(stop.output.contains("stays stopped until the next window edge at"), "\(stop.output)")
        let start = h.cli(["start", "trading"])
        #expect(start.output.contains("stays running until the next window edge"), "\(start.output)")
        #expect(try h.call("scheduler.list")["trading_hours"]?["override"]?["module_wanted"] == "running")
        // The window closes: the edge wins over the operator's start, and the override ends.
        #expect(waitUntil(75) { h.state("trading") == "stopped" })
        #expect(Int(Clock.wall()) >= close)
        #expect(try h.call("scheduler.list")["trading_hours"]?["override"] == nil)
        #expect(h.stopDaemon() == 0)
    }
}

private func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
