// exchange-sim: the offline Binance-shaped exchange (see SimulatedExchange).
import ExchangeSim
import Glibc
import HTTP
import SuperBotConfig
import SuperBotLog
import SystemKit
import TradingSettings

let usage = """
    usage: exchange-sim [--config DIR|FILE] [--port N] [--seed N] [--speed X] [--symbols A,B]
                        [--weight-limit N] [--rate-window S] [--latency-ms N] [--error-rate P]
                        [--drop-rate P] [--lose-reply-rate P] [--garbage-rate P] [--replay SYMBOL=FILE.csv]
    Settings come from trading.yaml (trading.simulator, trading.symbols); flags override them.
    """

func fail(_ message: String, code: Int32 = 2) -> Never {
    try? FileSystem.writeAll(2, Array("exchange-sim: \(message)\n".utf8))
    exit(code)
}

var configPath = Environment.get("SUPERBOT_CONFIG_DIR") ?? "config"
var overrides: [(String, String)] = []
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    if arg == "-h" || arg == "--help" {
        print(usage)
        exit(0)
    }
    guard arg.hasPrefix("--"), let value = arguments.popFirst() else {
        fail("unknown or incomplete option '\(arg)'\n\(usage)")
    }
    if arg == "--config" { configPath = value } else { overrides.append((arg, value)) }
}

var symbols: [String]
var sim: TradingConfig.Simulator
do {
    let config = try TradingConfig.load(path: configPath)
    symbols = config.symbols
    sim = config.simulator
} catch {
    fail("\(error)")
}
for (flag, value) in overrides {
    func number() -> Double {
        guard let v = Double(value), v.isFinite, v >= 0 else {
            fail("\(flag) needs a non-negative number, got '\(value)'")
        }
        return v
    }
    func probability() -> Double {
        let v = number()
        guard v <= 1 else { fail("\(flag) is a probability between 0 and 1, got '\(value)'") }
        return v
    }
    switch flag {
    case "--port": sim.port = Int(number())
    case "--seed": sim.seed = UInt64(number())
    case "--speed": sim.speed = max(0.001, number())
    case "--symbols": symbols = value.split(separator: ",").map(String.init)
    case "--weight-limit": sim.weightLimit = max(1, Int(number()))
    case "--rate-window": sim.rateWindow = max(0.1, number())
    case "--history-bars": sim.historyBars = max(1, Int(number()))
    case "--latency-ms": sim.faults.latencyMs = number()
    case "--error-rate": sim.faults.errorRate = probability()
    case "--drop-rate": sim.faults.dropRate = probability()
    case "--lose-reply-rate": sim.faults.loseReplyRate = probability()
    case "--garbage-rate": sim.faults.garbageRate = probability()
    case "--replay":
        let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { fail("--replay needs SYMBOL=FILE.csv, got '\(value)'") }
        sim.replay[parts[0]] = parts[1]
    default: fail("unknown option '\(flag)'\n\(usage)")
    }
}
guard sim.port <= 65535 else { fail("--port must be at most 65535") }

serve(sim, symbols)

/// Runs the simulator on one event loop until SIGTERM/SIGINT.
func serve(_ sim: TradingConfig.Simulator, _ symbols: [String]) -> Never {
    let logger = Logger(
        label: "exchange-sim",
        sinks: [JSONLinesFileSink(directory: Environment.get("SUPERBOT_LOG_DIR") ?? "logs", prefix: "exchange-sim")])
    let exchange: SimulatedExchange
    do {
        exchange = try SimulatedExchange(config: sim, symbols: symbols, now: Clock.wall())
    } catch {
        fail("\(error)")
    }
    let loop: EventLoop
    let server: HTTPServer
    do {
        loop = try EventLoop()
        server = try HTTPServer(
            loop: loop, host: sim.host, port: UInt16(sim.port), errorResponse: SimulatedExchange.parseErrorResponse
        ) { request, writer in
            switch exchange.handle(request, now: Clock.wall()) {
            case .respond(let response): writer.respond(response)
            case .drop: writer.drop()
            case .delayed(let seconds, let response):
                loop.schedule(after: seconds) {
                    if let response { writer.respond(response) } else { writer.drop() }
                }
            }
        }
    } catch {
        fail("cannot listen on \(sim.host):\(sim.port): \(error)", code: 1)
    }

    Signals.ignore(SIGPIPE)
    let signalFD: Int32
    do {
        signalFD = try Signals.makeSignalFD([SIGTERM, SIGINT])
        try loop.register(signalFD, .readable) { _ in
            let received = Signals.read(signalFD)
            logger.info("stopping", ["signal": .string(received.map(Signals.name).joined(separator: ","))])
            loop.stop()
        }
    } catch {
        fail("cannot install signal handling: \(error)", code: 1)
    }

    func tick() {
        exchange.advance(now: Clock.wall())
        loop.schedule(after: 0.1) { tick() }
    }
    tick()
    logger.info(
        "listening",
        [
            "port": .number(Double(server.port)), "symbols": .number(Double(symbols.count)),
            "seed": .number(Double(sim.seed)), "speed": .number(sim.speed),
        ])
    try? FileSystem.writeAll(
        1,
        Array(
            "exchange-sim listening on http://\(sim.host):\(server.port) (\(symbols.count) symbols, seed \(sim.seed), speed \(sim.speed)×)\n"
                .utf8))
    loop.run()
    server.close()
    exit(0)
}
