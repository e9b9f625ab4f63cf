// backtest: replays OHLCV bars through the live strategies; from a terminal, or as a one-shot
// module under the daemon (progress and the result on the bus).
import Backtest
import ExchangeConnector
import Glibc
import JSON
import SuperBotModule
import SystemKit
import TradingSettings

/// Under the daemon (it sets SUPERBOT_SOCKET), events go out on its bus.
struct BusEvents: BacktestEvents {
    let runtime: ModuleRuntime
    func publish(_ topic: String, _ data: JSON) { runtime.publish(topic, data) }
}

var events: BusEvents?
if Environment.get("SUPERBOT_SOCKET") != nil {
    let runtime = ModuleRuntime(name: Environment.get("SUPERBOT_MODULE") ?? "backtest")
    runtime.start()
    let deadline = Clock.monotonic() + 5
    while !runtime.isConnected && Clock.monotonic() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    if !runtime.isConnected {
        try? FileSystem.writeAll(2, Array("backtest: daemon socket unreachable; no bus events\n".utf8))
    }
    // A stop (SIGTERM) ends the run: no report is written half-way.
    runtime.onShutdown {
        runtime.publish("backtest.completed", ["ok": false, "error": "stopped before the end"])
        exit(143)
    }
    events = BusEvents(runtime: runtime)
}

/// Says why on stderr and, under the daemon, on the bus; exits with `code`.
@MainActor func fail(_ message: String, code: Int32) -> Never {
    events?.publish("backtest.completed", ["ok": false, "error": .string(message)])
    try? FileSystem.writeAll(2, Array("backtest: \(message)\n".utf8))
    exit(code)
}

var options: BacktestOptions
do { options = try BacktestOptions(arguments: Array(CommandLine.arguments.dropFirst())) } catch {
    fail("\(error) (backtest --help shows the options)", code: 2)
}
if options.help {
    print(BacktestOptions.usage)
    exit(0)
}
if options.needsConfig {
    let config = try? TradingConfig.load(path: options.configPath)
    do { try options.resolve(config) } catch { fail("\(error)", code: 2) }
}

let data: DataSet
do {
    switch options.source! {
    case .file(let path):
        data = try DataSet.load(csv: path, skipBadRows: options.skipBadRows, maxGap: options.maxGap)
    case .synthetic(let symbol, let count, let seed):
        let seconds = options.strategy.intervalSeconds
        // Bars end at the start of this minute, as if the simulator had run up to now.
        let now = Int64(Clock.wall()) / 60 * 60
        data = DataSet.synthetic(
            symbol: symbol, bars: count, seed: seed, seconds: seconds, startMs: (now - Int64(count) * seconds) * 1000)
    case .exchange(let url, let symbol, let count):
        let client = try ExchangeClient(ExchangeClient.Settings(baseURL: url))
        defer { client.shutdown() }
        data = try await DataSet.fetch(
            from: client, symbol: symbol, interval: options.strategy.interval, bars: count, source: url)
    }
} catch {
    fail("\(error)", code: 2)
}

if let path = options.exportBars {
    do { try FileSystem.writeAtomically(path, Array(data.csv.utf8), durable: false) } catch {
        fail("cannot write \(path): \(error)", code: 1)
    }
}

let output: ProgressReporter.Output =
    options.json || options.quiet ? .none : Environment.isTerminal(2) ? .terminal : .lines
do {
    let outcome = try BacktestRunner(options: options, events: events, progressOutput: output).run(data)
    try FileSystem.writeAll(1, Array(outcome.text.utf8))
    if let median = outcome.medianRunSeconds {
        try FileSystem.writeAll(
            2,
            Array("run: median \(median * 1000) ms over \(options.repeatCount) runs of \(data.bars.count) bars\n".utf8))
    }
} catch let error as UsageError {
    fail(error.description, code: 2)
} catch {
    fail("\(error)", code: 1)
}
exit(0)
