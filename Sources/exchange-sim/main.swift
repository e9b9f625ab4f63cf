// exchange-sim: the offline Binance-shaped exchange (see SimulatedExchange, SimServer).
import ExchangeSim
import Glibc
import SystemKit

do {
    guard let options = try SimOptions.parse(Array(CommandLine.arguments.dropFirst())) else {
        print(SimOptions.usage)
        exit(0)
    }
    SimServer.run(options)
} catch {
    try? FileSystem.writeAll(2, Array("exchange-sim: \(error)\n".utf8))
    exit(2)
}
