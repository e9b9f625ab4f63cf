import JSON

/// `trading positions|orders|balance` and `trading reconcile [SYMBOL]` (books against the account).
struct TradingCommand: CLICommand {
    static let verbs = ["trading"]
    enum What: String { case positions, orders, balance, reconcile }
    let what: What
    let symbol: String?

    init(verb: String, arguments: [String]) throws(UsageError) {
        guard let first = arguments.first, let what = What(rawValue: first),
            arguments.count == 1 || (what == .reconcile && arguments.count == 2)
        else {
            throw UsageError("usage: trading positions|orders|balance | trading reconcile [SYMBOL]")
        }
        self.what = what
        symbol = arguments.count == 2 ? arguments[1] : nil
    }

    func run(_ session: CLISession) throws -> ExitCode {
        let result = try session.call("trading.\(what.rawValue)", symbol.map { ["symbol": .string($0)] })
        session.show(result) { result in
            switch what {
            case .positions:
                return Table.positions(result["positions"]?.arrayValue ?? [])
            case .orders:
                let pending = (result["pending"]?.arrayValue ?? []).map {
                    "\npending: \($0["symbol"]?.stringValue ?? "?") \($0["client_order_id"]?.stringValue ?? "?")"
                }
                return Table.orders(result["recent"]?.arrayValue ?? []) + pending.joined()
            case .reconcile:
                return Table.reconciliation(result["reconciliation"]?.arrayValue ?? [])
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
