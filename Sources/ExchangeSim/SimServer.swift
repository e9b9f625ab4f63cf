import Glibc
import HTTP
import SuperBotLog
import SystemKit
import TradingSettings

/// `exchange-sim` as a process: the simulated exchange on one event loop and the shared HTTP
/// server, advanced every 100 ms, until SIGTERM or SIGINT.
public enum SimServer {
    static func fail(_ message: String, code: Int32 = 2) -> Never {
        try? FileSystem.writeAll(2, Array("exchange-sim: \(message)\n".utf8))
        exit(code)
    }

    /// Runs the simulator on one event loop until SIGTERM/SIGINT.
    public static func run(_ options: SimOptions) -> Never {
        let sim = options.simulator
        let symbols = options.symbols
        let logger = Logger(
            label: "exchange-sim",
            sinks: [JSONLinesFileSink(directory: Environment.get("SUPERBOT_LOG_DIR") ?? "logs", prefix: "exchange-sim")]
        )
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
                "state_file": sim.stateFile.map { .string($0) } ?? .null,
                "restored_orders": .number(Double(exchange.restoredOrders)),
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
}
