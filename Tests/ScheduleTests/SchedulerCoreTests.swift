import Schedule
import Testing

/// The scheduler's decisions on a manual clock: catch-up, overlap, clock jumps, trading hours.
struct SchedulerCoreTests {
    func job(
        _ name: String, _ cron: String, catchUp: Bool = false, overlap: SchedulerCore.Overlap = .skip,
        lasts: Bool = false
    )
        throws -> SchedulerCore.Job
    {
        SchedulerCore.Job(
            name: name, schedule: try schedule(cron, "UTC"), catchUp: catchUp, overlap: overlap, lasts: lasts)
    }

    @Test func firesOnceAtItsTimeAndArmsForTheNext() throws {
        var core = SchedulerCore(
            jobs: [try job("hourly", "0 * * * *")], lastFires: [:], window: nil, now: at("2026-12-01T10:20:00Z"))
        #expect(core.nextWake == at("2026-12-01T11:00:00Z"))
        #expect(core.advance(now: at("2026-12-01T10:59:59Z")).isEmpty)
        #expect(
            core.advance(now: at("2026-12-01T11:00:00Z")) == [
                .run(job: "hourly", fireTime: at("2026-12-01T11:00:00Z"), reason: .scheduled, coalesced: 0)
            ])
        #expect(core.advance(now: at("2026-12-01T11:00:00Z")).isEmpty)
        #expect(core.nextWake == at("2026-12-01T12:00:00Z"))
    }

    @Test func clockSetBackNeverRepeatsAFireTime() throws {
        var core = SchedulerCore(
            jobs: [try job("hourly", "0 * * * *")], lastFires: [:], window: nil, now: at("2026-12-01T10:20:00Z"))
        _ = core.advance(now: at("2026-12-01T11:00:05Z"))
        // The clock goes back 90 minutes: 10:00 and 11:00 must not run again.
        #expect(core.advance(now: at("2026-12-01T09:30:05Z")).isEmpty)
        #expect(core.advance(now: at("2026-12-01T11:00:05Z")).isEmpty)
        #expect(core.nextWake == at("2026-12-01T12:00:00Z"))
        #expect(core.advance(now: at("2026-12-01T12:00:00Z")).count == 1)
    }

    @Test func clockSetForwardRunsOnceAndSaysHowManyItStandsFor() throws {
        var core = SchedulerCore(
            jobs: [try job("hourly", "0 * * * *")], lastFires: [:], window: nil, now: at("2026-12-01T10:20:00Z"))
        #expect(
            core.advance(now: at("2026-12-01T15:10:00Z")) == [
                .run(job: "hourly", fireTime: at("2026-12-01T15:00:00Z"), reason: .scheduled, coalesced: 4)
            ])
        #expect(core.nextWake == at("2026-12-01T16:00:00Z"))
    }

    @Test func catchUpRunsOnceForRunsMissedWhileDown() throws {
        let jobs = [try job("nightly", "0 2 * * *", catchUp: true), try job("report", "0 3 * * *")]
        let last = at("2026-11-28T02:00:00Z")
        var core = SchedulerCore(
            jobs: jobs, lastFires: ["nightly": last, "report": at("2026-11-28T03:00:00Z")], window: nil,
            now: at("2026-12-01T10:00:00Z"))
        let actions = core.start(now: at("2026-12-01T10:00:00Z"))
        #expect(
            actions == [
                .run(job: "nightly", fireTime: at("2026-12-01T02:00:00Z"), reason: .catchUp, coalesced: 2),
                .missed(job: "report", count: 3, first: at("2026-11-29T03:00:00Z"), last: at("2026-12-01T03:00:00Z")),
            ])
        #expect(core.lastFires["nightly"] == at("2026-12-01T02:00:00Z"))
        // Nothing owed: no catch-up.
        var fresh = SchedulerCore(
            jobs: jobs, lastFires: ["nightly": at("2026-12-01T02:00:00Z")], window: nil, now: at("2026-12-01T10:00:00Z")
        )
        #expect(fresh.start(now: at("2026-12-01T10:00:00Z")).isEmpty)
    }

    @Test func overlapSkipQueueRestart() throws {
        let start = at("2026-12-01T10:00:30Z")
        var core = SchedulerCore(
            jobs: [
                try job("skip", "* * * * *", overlap: .skip, lasts: true),
                try job("queue", "* * * * *", overlap: .queue, lasts: true),
                try job("restart", "* * * * *", overlap: .restart, lasts: true),
            ], lastFires: [:], window: nil, now: start)
        let first = core.advance(now: at("2026-12-01T10:01:00Z"))
        #expect(first.count == 3 && first.allSatisfy { if case .run = $0 { return true } else { return false } })
        let second = core.advance(now: at("2026-12-01T10:02:00Z"))
        let t = at("2026-12-01T10:02:00Z")
        #expect(second[0] == .skip(job: "skip", fireTime: t, why: "the previous run is still going (overlap: skip)"))
        #expect(second[1] == .skip(job: "queue", fireTime: t, why: "queued behind the running one (overlap: queue)"))
        #expect(second[2] == .restart(job: "restart", fireTime: t))
        #expect(core.runEnded("skip") == nil)
        #expect(core.runEnded("queue") == .run(job: "queue", fireTime: t, reason: .queued, coalesced: 0))
        #expect(core.state(of: "queue")?.running == true)
        // A run that does not last (publish, call) never overlaps.
        var quick = SchedulerCore(jobs: [try job("pub", "* * * * *")], lastFires: [:], window: nil, now: start)
        _ = quick.advance(now: at("2026-12-01T10:01:00Z"))
        #expect(
            quick.runNow("pub", now: at("2026-12-01T10:01:10Z"))
                == .run(job: "pub", fireTime: at("2026-12-01T10:01:10Z"), reason: .manual, coalesced: 0))
    }

    func window(
        _ start: (Int, Int), _ stop: (Int, Int), days: Set<Int> = [1, 2, 3, 4, 5], zone z: String = "Europe/Istanbul"
    )
        throws -> TradingWindow
    {
        TradingWindow(module: "trading", start: start, stop: stop, days: days, zone: try zone(z))
    }

    @Test func tradingWindowOpensAndClosesOnTradingDaysOnly() throws {
        let w = try window((9, 0), (18, 0))
        // 2026-12-04 is a Friday; Istanbul is UTC+3.
        #expect(w.isOpen(at: at("2026-12-04T06:00:00Z")))
        #expect(!w.isOpen(at: at("2026-12-04T05:59:59Z")))
        #expect(!w.isOpen(at: at("2026-12-04T15:00:00Z")))
        #expect(!w.isOpen(at: at("2026-12-05T08:00:00Z")))
        #expect(w.nextEdge(after: at("2026-12-04T15:00:00Z"))! == (at("2026-12-07T06:00:00Z"), true))
        let overnight = try window((22, 0), (6, 0), days: [5])
        #expect(overnight.isOpen(at: at("2026-12-05T01:00:00Z")))
        #expect(!overnight.isOpen(at: at("2026-12-05T03:00:00Z")))
        #expect(!overnight.isOpen(at: at("2026-12-06T01:00:00Z")))
    }

    @Test func tradingEdgesOperatorOverrideAndStartUp() throws {
        let w = try window((9, 0), (18, 0))
        let inside = at("2026-12-01T07:00:00Z")
        var core = SchedulerCore(jobs: [], lastFires: [:], window: w, now: inside)
        #expect(core.start(now: inside) == [.trading(open: true, edge: nil)])
        #expect(core.nextWake == at("2026-12-01T15:00:00Z"))
        // The operator stops it inside the window: that stands until the close...
        let override = core.operatorActed(open: false)
        #expect(override?.open == false && override?.until == at("2026-12-01T15:00:00Z"))
        #expect(
            core.advance(now: at("2026-12-01T15:00:00Z")) == [.trading(open: false, edge: at("2026-12-01T15:00:00Z"))])
        #expect(core.override == nil)
        #expect(
            core.advance(now: at("2026-12-02T06:00:00Z")) == [.trading(open: true, edge: at("2026-12-02T06:00:00Z"))])
        // Started outside the window: nothing is started.
        let outside = at("2026-12-01T20:00:00Z")
        var late = SchedulerCore(jobs: [], lastFires: [:], window: w, now: outside)
        #expect(late.start(now: outside).isEmpty)
        // Operator-stopped before a restart inside the window: stays stopped until the next edge.
        var stopped = SchedulerCore(jobs: [], lastFires: [:], window: w, now: inside)
        #expect(stopped.start(now: inside, tradingStoppedByOperator: true).isEmpty)
        #expect(stopped.override?.open == false)
    }

    @Test func reloadKeepsLastFiresAndRecomputes() throws {
        var core = SchedulerCore(
            jobs: [try job("a", "0 * * * *")], lastFires: [:], window: nil, now: at("2026-12-01T10:20:00Z"))
        _ = core.advance(now: at("2026-12-01T11:00:00Z"))
        let actions = core.update(
            jobs: [try job("a", "30 * * * *"), try job("b", "0 0 * * *")], window: try window((9, 0), (18, 0)),
            now: at("2026-12-01T11:10:00Z"))
        #expect(actions == [.trading(open: true, edge: nil)])
        #expect(core.state(of: "a")?.lastFire == at("2026-12-01T11:00:00Z"))
        #expect(core.state(of: "a")?.next == at("2026-12-01T11:30:00Z"))
        #expect(core.state(of: "b")?.next == at("2026-12-02T00:00:00Z"))
    }
}
