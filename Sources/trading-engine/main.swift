// trading-engine: one engine per symbol of trading.yaml, served to the rest of SuperBot over the bus.
import Engines
import ExchangeConnector
import ExchangeModel
import Glibc
import JSON
import SuperBotConfig
import SuperBotModule
import SystemKit
import TradingSettings

func fail(_ message: String) -> Never {
    try? FileSystem.writeAll(2, Array("trading-engine: \(message)\n".utf8))
    exit(2)
}

var configPath = Environment.get("SUPERBOT_CONFIG_DIR") ?? "config"
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--config":
        guard let value = arguments.popFirst() else { fail("--config needs a directory or file") }
        configPath = value
    case "--mode":
        let mode = arguments.popFirst() ?? ""
        guard mode == "paper" else { fail("only --mode paper is supported (got '\(mode)'): SuperBot trades on paper") }
    case "-h", "--help":
        print(
            "usage: trading-engine [--config DIR|FILE] [--mode paper]\nReads trading.yaml; runs one engine per symbol under the SuperBot daemon."
        )
        exit(0)
    default: fail("unknown option '\(arg)'")
    }
}

let config: TradingConfig
do { config = try TradingConfig.load(path: configPath) } catch { fail("\(error)") }

/// Engine events go out on the daemon's bus.
struct BusPublisher: EventPublisher {
    let runtime: ModuleRuntime
    func publish(_ topic: String, _ data: JSON) { runtime.publish(topic, data) }
}

/// `exchange.cache.shared`: market data through the daemon's cache, shared with other modules.
struct DaemonCache: SharedCache {
    let runtime: ModuleRuntime
    func get(_ key: String) async -> JSON? { try? await runtime.cacheGet(key) }
    func set(_ key: String, _ value: JSON, ttl: Double) async { try? await runtime.cacheSet(key, value, ttl: ttl) }
}

let runtime = ModuleRuntime()
let client: ExchangeClient
do {
    client = try ExchangeClient(
        ExchangeClient.Settings(config.exchange),
        sharedCache: config.exchange.sharedCache ? DaemonCache(runtime: runtime) : nil)
} catch { fail("\(error)") }
let logDirectory = Environment.get("SUPERBOT_LOG_DIR") ?? "logs"
let manager = EngineManager(
    config: config, exchange: client, logDirectory: logDirectory, events: BusPublisher(runtime: runtime))
let faultsAllowed = Environment.get("SUPERBOT_ENGINE_FAULTS") == "1"

let code = await runtime.run { rt in
    for (method, handler) in EngineMethods.table(manager: manager, client: client, faults: faultsAllowed) {
        rt.register(method, handler)
    }
    rt.onShutdown {
        await manager.stopAll()
        client.shutdown()
    }
    rt.declareLogs(["symbol": EngineManager.logTemplate(directory: logDirectory)])
    rt.startHeartbeat(every: 2)
    rt.logger.info(
        "trading engine starting",
        ["symbols": JSON(config.engines.count), "exchange": .string(config.exchange.baseURL)])
    // The exchange's rate limits, learnt before the engines' first requests spend the budget.
    do { _ = try await client.exchangeInfo() } catch {
        rt.logger.warning(
            "exchangeInfo failed: the request budget keeps its default (6000 a minute) until a symbol's rules are read",
            ["error": .string("\(error)")])
    }
    await manager.startAll()
    try await Task.sleep(for: .seconds(1_000_000_000))
}
exit(code)
