import SystemKit
import TradingSettings

/// `exchange-sim`'s command line: trading.yaml, then flags that override its simulator section.
public struct SimOptions {
    public static let usage = """
        usage: exchange-sim [--config DIR|FILE] [--port N] [--seed N] [--speed X] [--symbols A,B]
                            [--weight-limit N] [--rate-window S] [--latency-ms N] [--error-rate P]
                            [--drop-rate P] [--lose-reply-rate P] [--garbage-rate P] [--replay SYMBOL=FILE.csv]
                            [--state-file PATH]
        Settings come from trading.yaml (trading.simulator, trading.symbols); flags override them.
        The account (balances, orders, trades) survives restarts in --state-file ('' keeps it in memory).
        """

    /// A command line that cannot run: the message says which flag and why.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public var symbols: [String]
    public var simulator: TradingConfig.Simulator

    /// Reads the config the flags name (or `$SUPERBOT_CONFIG_DIR`, else `config/`), then applies
    /// the flags; `nil` for `--help`.
    public static func parse(_ arguments: [String]) throws -> SimOptions? {
        var configPath = Environment.get("SUPERBOT_CONFIG_DIR") ?? "config"
        var overrides: [(String, String)] = []
        var rest = arguments[...]
        while let arg = rest.popFirst() {
            if arg == "-h" || arg == "--help" { return nil }
            guard arg.hasPrefix("--"), let value = rest.popFirst() else {
                throw Invalid("unknown or incomplete option '\(arg)'\n\(usage)")
            }
            if arg == "--config" { configPath = value } else { overrides.append((arg, value)) }
        }
        let config = try TradingConfig.load(path: configPath)
        var options = SimOptions(symbols: config.symbols, simulator: config.simulator)
        for (flag, value) in overrides { try options.apply(flag, value) }
        guard options.simulator.port <= 65535 else { throw Invalid("--port must be at most 65535") }
        return options
    }

    private mutating func apply(_ flag: String, _ value: String) throws {
        func number() throws -> Double {
            guard let v = Double(value), v.isFinite, v >= 0 else {
                throw Invalid("\(flag) needs a non-negative number, got '\(value)'")
            }
            return v
        }
        func probability() throws -> Double {
            let v = try number()
            guard v <= 1 else { throw Invalid("\(flag) is a probability between 0 and 1, got '\(value)'") }
            return v
        }
        switch flag {
        case "--port": simulator.port = Int(try number())
        case "--seed": simulator.seed = UInt64(try number())
        case "--speed": simulator.speed = max(0.001, try number())
        case "--symbols": symbols = value.split(separator: ",").map(String.init)
        case "--weight-limit": simulator.weightLimit = max(1, Int(try number()))
        case "--rate-window": simulator.rateWindow = max(0.1, try number())
        case "--history-bars": simulator.historyBars = max(1, Int(try number()))
        case "--latency-ms": simulator.faults.latencyMs = try number()
        case "--error-rate": simulator.faults.errorRate = try probability()
        case "--drop-rate": simulator.faults.dropRate = try probability()
        case "--lose-reply-rate": simulator.faults.loseReplyRate = try probability()
        case "--garbage-rate": simulator.faults.garbageRate = try probability()
        case "--state-file": simulator.stateFile = value.isEmpty ? nil : value
        case "--replay":
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw Invalid("--replay needs SYMBOL=FILE.csv, got '\(value)'") }
            simulator.replay[parts[0]] = parts[1]
        default: throw Invalid("unknown option '\(flag)'\n\(SimOptions.usage)")
        }
    }
}
