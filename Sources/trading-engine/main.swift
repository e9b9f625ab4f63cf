// trading-engine: one engine per symbol of trading.yaml, served to the rest of SuperBot over the bus.
import Engines
import ExchangeConnector
import ExchangeModel
import Glibc
import JSON
import RPC
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
        print("usage: trading-engine [--config DIR|FILE] [--mode paper]\nReads trading.yaml; runs one engine per symbol under the SuperBot daemon.")
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

let client: ExchangeClient
do { client = try ExchangeClient(ExchangeClient.Settings(config.exchange)) } catch { fail("\(error)") }

let runtime = ModuleRuntime()
let logDirectory = Environment.get("SUPERBOT_LOG_DIR") ?? "logs"
let manager = EngineManager(config: config, exchange: client, logDirectory: logDirectory, events: BusPublisher(runtime: runtime))
let faultsAllowed = Environment.get("SUPERBOT_ENGINE_FAULTS") == "1"

/// `{"symbol": "BTCUSDT"}` or `["BTCUSDT"]`.
@Sendable func symbolParam(_ params: JSON?, required: Bool) throws -> String? {
    let value = params?["symbol"] ?? params?.arrayValue?.first
    guard let symbol = value?.stringValue, !symbol.isEmpty else {
        if required { throw RPCError.invalidParams("needs {\"symbol\": \"BTCUSDT\"}") }
        return nil
    }
    return symbol
}

@Sendable func control(_ body: @escaping @Sendable (String) async throws -> Void) -> ModuleRuntime.Handler {
    { params in
        let symbol = try symbolParam(params, required: true)!
        do { try await body(symbol) } catch let e as EngineManager.ControlError { throw RPCError.invalidParams(e.description) }
        return try await manager.statusJSON(symbol)
    }
}

let code = await runtime.run { rt in
    rt.register("engines.status") { params in
        do { return try await manager.statusJSON(try symbolParam(params, required: false)) } catch let e as EngineManager.ControlError { throw RPCError.invalidParams(e.description) }
    }
    rt.register("engines.start", control { try await manager.start($0) })
    rt.register("engines.stop", control { try await manager.stop($0) })
    rt.register("engines.restart", control { try await manager.restart($0) })
    rt.register("trading.positions") { _ in ["positions": await manager.positions()] }
    rt.register("trading.orders") { params in
        do { return try await manager.orders(try symbolParam(params, required: false)) } catch let e as EngineManager.ControlError { throw RPCError.invalidParams(e.description) }
    }
    rt.register("trading.balance") { _ in
        var out = await manager.balance().objectValue ?? [:]
        if let balances = try? await client.balances() {
            out["exchange"] = .object(balances.mapValues { ["free": JSON($0.free), "locked": JSON($0.locked)] })
        }
        let pool = client.pool.stats
        let cache = client.cache.stats.mapValues { JSON($0.hitRate) }
        out["connector"] = ["requests": JSON(client.counterValues.requests), "retries": JSON(client.counterValues.retries),
                            "connections_open": JSON(pool.open), "connections_reused": JSON(pool.reused), "cache_hit_rate": .object(cache)]
        return .object(out)
    }
    if faultsAllowed {
        rt.register("engines.inject_fault") { params in
            let symbol = try symbolParam(params, required: true)!
            guard let kind = params?["fault"]?.stringValue.flatMap(EngineFault.init) else { throw RPCError.invalidParams("needs {\"symbol\", \"fault\": crash|hang|error}") }
            do { try await manager.inject(kind, into: symbol) } catch let e as EngineManager.ControlError { throw RPCError.invalidParams(e.description) }
            return ["injected": .string(kind.rawValue), "symbol": .string(symbol)]
        }
    }
    rt.onShutdown {
        await manager.stopAll()
        client.shutdown()
    }
    rt.declareLogs(["symbol": EngineManager.logTemplate(directory: logDirectory)])
    rt.startHeartbeat(every: 2)
    rt.logger.info("trading engine starting", ["symbols": JSON(config.engines.count), "exchange": .string(config.exchange.baseURL)])
    await manager.startAll()
    try await Task.sleep(for: .seconds(1_000_000_000))
}
exit(code)
