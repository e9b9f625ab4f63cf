import JSON
import MarketData
import SystemKit
import Trading
import TradingSettings

/// Where a run's events go: the daemon's bus under the daemon, nowhere from a terminal.
public protocol BacktestEvents: Sendable {
    func publish(_ topic: String, _ data: JSON)
}

/// Runs what the options ask for (one run, a sweep, or a walk-forward) on loaded data, writes
/// the report files and returns what to print.
public struct BacktestRunner: Sendable {
    public struct Outcome: Sendable {
        public var report: BacktestReport
        public var directory: String?
        /// What goes to stdout: report.json with `--json`, else the statistics and the paths.
        public var text: String
        /// `--repeat`: the median time of one run, in seconds.
        public var medianRunSeconds: Double?
    }

    public let options: BacktestOptions
    public let events: (any BacktestEvents)?
    public let progressOutput: ProgressReporter.Output

    public init(options: BacktestOptions, events: (any BacktestEvents)?, progressOutput: ProgressReporter.Output) {
        self.options = options
        self.events = events
        self.progressOutput = progressOutput
    }

    /// What one kind of run hands back for writing: the report and what only it has.
    struct Produced {
        var report: BacktestReport
        var extra: [String: JSON] = [:]
        var sweepPage: String?
        var median: Double?
    }

    /// The context every kind of run shares.
    struct Context {
        let runId: String
        let created: String
        let data: DataSet
        let event: (@Sendable (Int, Int, Double, Double) -> Void)?
    }

    public func run(_ data: DataSet, now: Double = Clock.wall()) throws -> Outcome {
        let runId = options.runId ?? BacktestRunner.defaultRunId(options, now: now)
        let sink = events
        let event: @Sendable (Int, Int, Double, Double) -> Void = { done, total, rate, eta in
            sink?.publish(
                "backtest.progress",
                [
                    "run_id": .string(runId), "done": JSON(done), "total": JSON(total), "rate": JSON(rate.rounded()),
                    "eta_s": JSON((eta * 10).rounded() / 10),
                ])
        }
        let context = Context(runId: runId, created: Clock.iso8601(now), data: data, event: sink == nil ? nil : event)
        var produced: Produced
        if let grid = options.grid, let wf = options.walkForward {
            produced = try walkForward(context, grid: grid, train: wf.train, test: wf.test)
        } else if let grid = options.grid {
            produced = try sweep(context, grid: grid)
        } else {
            produced = single(context)
        }
        var report = produced.report
        let (extra, sweepPage, median) = (produced.extra, produced.sweepPage, produced.median)
        if !data.summary.skipped.isEmpty {
            report.notes.append(
                "\(data.summary.skipped.count) bad rows skipped (--skip-bad-rows); the first: \(data.summary.skipped[0])"
            )
        }
        if data.summary.gaps > 0 {
            report.notes.append(
                "\(data.summary.gaps) gaps in the data, the largest \(DataSet.span(data.summary.largestGapMs))")
        }

        var json = report.json
        if case .object(var o) = json {
            for (k, v) in extra { o[k] = v }
            json = .object(o)
        }
        var directory: String?
        if options.writeReport {
            let dir = BacktestRunner.uniqueDirectory(options.reportDirectory + "/" + runId)
            try FileSystem.makeDirectories(dir)
            try FileSystem.writeAtomically(dir + "/report.json", json.serializedBytes() + [0x0a], durable: false)
            try FileSystem.writeAtomically(dir + "/report.html", Array(ReportPage.html(report).utf8), durable: false)
            if let sweepPage {
                try FileSystem.writeAtomically(dir + "/sweep.html", Array(sweepPage.utf8), durable: false)
            }
            directory = dir
        }
        let text: String
        if options.json {
            text = json.serialized() + "\n"
        } else {
            var t = report.statisticsText + "\n"
            for note in report.notes { t += "note: \(note)\n" }
            if let directory { t += "report: \(directory)/report.json, \(directory)/report.html\n" }
            if sweepPage != nil, let directory { t += "sweep: \(directory)/sweep.html\n" }
            text = t
        }
        sink?.publish("backtest.completed", BacktestRunner.summary(report, directory: directory))
        return Outcome(report: report, directory: directory, text: text, medianRunSeconds: median)
    }

    private func walkForward(_ c: Context, grid: ParameterGrid, train: Int, test: Int) throws -> Produced {
        let bars = c.data.bars
        let wf = (train: train, test: test)
        var extra: [String: JSON] = [:]
        let progress = ProgressReporter(
            total: max(1, (bars.count - wf.train + wf.test - 1) / wf.test), unit: "windows", output: progressOutput,
            event: c.event)
        let walk = try WalkForward.run(
            bars: bars, base: options.strategy, model: options.model, grid: grid, rank: options.rank,
            train: wf.train, test: wf.test, progress: { progress.update($0) })
        progress.finish()
        let oos = Array(bars[walk.firstTestBar..<(walk.firstTestBar + walk.result.equity.count)])
        let stats = Statistics(
            times: oos.map(\.time), closes: oos.map(\.close), equity: walk.result.equity,
            trades: walk.result.trades, indicatorBars: 0)
        var report = BacktestReport(
            runId: c.runId, created: c.created, strategy: options.strategy, model: options.model,
            data: c.data.summary, bars: oos, result: walk.result, statistics: stats)
        report.notes.append(
            "walk-forward: \(walk.windows.count) windows of \(wf.train) training and \(wf.test) test bars; only the test bars (out of sample) are reported, each window's position closed at its end"
        )
        extra["walk_forward"] = .array(
            walk.windows.map { w in
                [
                    "train_from": .string(ISO8601Time.format(ms: bars[w.trainFrom].time)),
                    "test_from": .string(ISO8601Time.format(ms: bars[w.testFrom].time)),
                    "test_to": .string(ISO8601Time.format(ms: bars[w.testTo - 1].time)),
                    "fast": JSON(w.chosen.fast), "slow": JSON(w.chosen.slow), "train_score": JSON(w.trainScore),
                    "test_return_pct": JSON(w.testReturn),
                ]
            })
        return Produced(report: report, extra: extra)
    }

    private func sweep(_ c: Context, grid: ParameterGrid) throws -> Produced {
        let bars = c.data.bars
        var extra: [String: JSON] = [:]
        let (combos, _) = grid.combinations(of: options.strategy)
        guard !combos.isEmpty else {
            throw UsageError("--grid leaves no valid combination (fast must be below slow)")
        }
        let progress = ProgressReporter(
            total: combos.count, unit: "runs", output: progressOutput, event: c.event)
        let sweep = Sweep.run(
            bars: bars, base: options.strategy, model: options.model, grid: grid, rank: options.rank,
            progress: { progress.update($0) })
        progress.finish()
        let best = sweep.rows[0]
        let result = Backtester.run(bars: bars, strategy: StrategyFactory.make(best.strategy), model: options.model)
        var strategy = options.strategy
        strategy.fast = best.strategy.fast
        strategy.slow = best.strategy.slow
        var report = BacktestReport(
            runId: c.runId, created: c.created, strategy: strategy, model: options.model, data: c.data.summary,
            bars: bars, result: result, statistics: best.statistics)
        report.notes.append(
            "best of \(sweep.rows.count) combinations by \(options.rank) (\(sweep.skipped) skipped as invalid); sweep.html ranks them all"
        )
        extra["sweep"] = [
            "rank": .string(options.rank), "combinations": JSON(sweep.rows.count), "skipped": JSON(sweep.skipped),
            "grid": .object(
                Dictionary(uniqueKeysWithValues: grid.axes.map { ($0.name, .array($0.values.map { JSON($0) })) })),
            "top": .array(
                sweep.rows.prefix(100).map { row in
                    var o: [String: JSON] = [
                        "fast": JSON(row.strategy.fast), "slow": JSON(row.strategy.slow), "score": JSON(row.score),
                    ]
                    for name in [
                        "Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "# Trades", "Win Rate [%]", "SQN",
                    ] {
                        o[name] = row.statistics[name]?.json ?? .null
                    }
                    return .object(o)
                }),
        ]
        let page = ReportPage.html(sweep: sweep, grid: grid, runId: c.runId, dataName: c.data.summary.name)
        return Produced(report: report, extra: extra, sweepPage: page)
    }

    private func single(_ c: Context) -> Produced {
        let bars = c.data.bars
        let progress = ProgressReporter(
            total: bars.count, unit: "bars", output: bars.count >= 200_000 ? progressOutput : .none,
            event: c.event)
        var last: (BacktestResult, Statistics)?
        var times: [Double] = []
        let barTimes = bars.map(\.time)
        let closes = bars.map(\.close)
        // `--repeat` times the run and its statistics, as backtesting.py's `run()` includes both.
        for _ in 0..<options.repeatCount {
            let start = Clock.monotonic()
            let r = Backtester.run(
                bars: bars, strategy: StrategyFactory.make(options.strategy), model: options.model,
                progressEvery: 16_384, progress: { progress.update($0) })
            let stats = Statistics(
                times: barTimes, closes: closes, equity: r.equity, trades: r.trades, indicatorBars: r.indicatorBars)
            times.append(Clock.monotonic() - start)
            last = (r, stats)
        }
        progress.finish()
        let (r, stats) = last!
        let report = BacktestReport(
            runId: c.runId, created: c.created, strategy: options.strategy, model: options.model,
            data: c.data.summary, bars: bars, result: r, statistics: stats)
        return Produced(report: report, median: options.repeatCount > 1 ? times.sorted()[times.count / 2] : nil)
    }

    /// What `backtest.completed` carries: the figures an operator looks at first.
    public static func summary(_ report: BacktestReport, directory: String?) -> JSON {
        var o: [String: JSON] = [
            "ok": true, "run_id": .string(report.runId), "strategy": .string(report.strategy.name),
            "fast": JSON(report.strategy.fast), "slow": JSON(report.strategy.slow), "bars": JSON(report.bars.count),
            "data": .string(report.data.name),
            "report": directory.map { .string(FileSystem.absolute($0) + "/report.json") } ?? .null,
        ]
        for name in [
            "Return [%]", "Buy & Hold Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "# Trades", "Win Rate [%]",
            "Equity Final [$]",
        ] {
            o[name] = report.statistics[name]?.json ?? .null
        }
        return .object(o)
    }

    static func defaultRunId(_ options: BacktestOptions, now: Double) -> String {
        let iso = Clock.iso8601(now)  // 2026-12-01T16:05:12.345Z
        let stamp = String(iso.prefix(19).filter { $0 != "-" && $0 != ":" }.map { $0 == "T" ? "-" : $0 })
        let kind =
            options.walkForward != nil
            ? "walk-forward" : options.grid != nil ? "sweep" : "\(options.strategy.fast)-\(options.strategy.slow)"
        return "\(stamp)-\(options.strategy.name)-\(kind)"
    }

    /// `path`, or `path-2`, `path-3` … when a report is already there.
    static func uniqueDirectory(_ path: String) -> String {
        guard FileSystem.exists(path) else { return path }
        var n = 2
        while FileSystem.exists("\(path)-\(n)") { n += 1 }
        return "\(path)-\(n)"
    }
}
