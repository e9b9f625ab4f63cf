import JSON
import SystemKit

/// `logs NAME|daemon [-f] [-n N]` and `logs --symbol SYMBOL [-f] [-n N]`: the tail of a log, then
/// (with `-f`) every new line, across rotation.
struct LogsCommand: CLICommand {
    static let verbs = ["logs"]
    var name: String?
    var symbol: String?
    var lines = 10
    var follow = false

    init(verb: String, arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        while let arg = rest.popFirst() {
            switch arg {
            case "-f", "--follow": follow = true
            case "--symbol":
                guard let v = rest.popFirst(), !v.hasPrefix("-") else {
                    throw UsageError("--symbol needs a symbol like BTCUSDT")
                }
                symbol = v
            case "-n", "--lines":
                guard let v = rest.popFirst(), let n = Int(v), n >= 0 else {
                    throw UsageError("-n needs a number of lines")
                }
                lines = n
            default:
                guard name == nil, !arg.hasPrefix("-") else { throw UsageError("unexpected '\(arg)'") }
                name = arg
            }
        }
    }

    func validate() throws(UsageError) {
        guard (name == nil) != (symbol == nil) else {
            throw UsageError("logs needs a module name (or daemon), or --symbol SYMBOL")
        }
    }

    func run(_ session: CLISession) throws -> ExitCode {
        let client = try session.connect()
        var params: [String: JSON] = ["lines": JSON(lines), "follow": .bool(follow)]
        if let name { params["name"] = .string(name) }
        if let symbol { params["symbol"] = .string(symbol) }
        let result = try client.call("logs.stream", .object(params))
        for line in result["lines"]?.arrayValue ?? [] { session.emit(line.stringValue ?? "") }
        guard follow else { return .ok }
        Socket.setReceiveTimeout(client.fd, seconds: 0)
        while true {
            let message = try client.readMessage()
            if message["method"]?.stringValue == "logs.line", let line = message["params"]?["line"]?.stringValue {
                session.emit(line)
            }
        }
    }
}
