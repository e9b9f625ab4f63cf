import JSON

/// `engines [SYMBOL]` and `engines start|stop|restart SYMBOL`.
struct EnginesCommand: CLICommand {
    static let verbs = ["engines"]
    let action: String?
    let symbol: String?

    init(verb: String, arguments: [String]) throws(UsageError) {
        if let first = arguments.first, ["start", "stop", "restart"].contains(first) {
            guard arguments.count == 2 else { throw UsageError("usage: engines \(first) SYMBOL") }
            action = first
            symbol = arguments[1]
        } else {
            guard arguments.count <= 1 else {
                throw UsageError("usage: engines [SYMBOL] | engines start|stop|restart SYMBOL")
            }
            action = nil
            symbol = arguments.first
        }
    }

    func run(_ session: CLISession) throws -> ExitCode {
        if let action, let symbol {
            session.show(try session.call("engines.\(action)", ["symbol": .string(symbol)])) { result in
                "\(symbol): \(result["status"]?.stringValue ?? "?")"
                    + (result["reason"]?.stringValue.map { " (\($0))" } ?? "")
            }
        } else if let symbol {
            session.show(try session.call("engines.status", ["symbol": .string(symbol)]), Table.keyValues)
        } else {
            let list = try session.call("engines.status")["engines"]?.arrayValue ?? []
            session.show(.array(list)) { Table.engines($0.arrayValue ?? []) }
        }
        return .ok
    }
}
