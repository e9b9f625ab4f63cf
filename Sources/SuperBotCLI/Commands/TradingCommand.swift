import JSON

/// `trading positions|orders|balance`.
struct TradingCommand: CLICommand {
    static let verbs = ["trading"]
    enum What: String { case positions, orders, balance }
    let what: What

    init(verb: String, arguments: [String]) throws(UsageError) {
        guard arguments.count == 1, let what = What(rawValue: arguments[0]) else {
            throw UsageError("usage: trading positions|orders|balance")
        }
        self.what = what
    }

    func run(_ session: CLISession) throws -> ExitCode {
        let result = try session.call("trading.\(what.rawValue)")
        session.show(result) { result in
            switch what {
            case .positions:
                return Table.positions(result["positions"]?.arrayValue ?? [])
            case .orders:
                let pending = (result["pending"]?.arrayValue ?? []).map {
                    "\npending: \($0["symbol"]?.stringValue ?? "?") \($0["client_order_id"]?.stringValue ?? "?")"
                }
                return Table.orders(result["recent"]?.arrayValue ?? []) + pending.joined()
            case .balance:
                var summary = result.objectValue ?? [:]
                let exchange = summary.removeValue(forKey: "exchange")
                let connector = summary.removeValue(forKey: "connector")
                return Table.keyValues(.object(summary))
                    + (connector.map { "\n\nconnector\n" + Table.keyValues($0) } ?? "")
                    + (exchange.map { "\n\nexchange account\n" + Table.keyValues($0) } ?? "")
            }
        }
        return .ok
    }
}
