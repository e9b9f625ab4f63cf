import JSON

/// `trading positions|orders|balance` and `trading reconcile [SYMBOL] [--adopt]` (books against
/// the exchange; `--adopt` books the exchange's view once).
struct TradingCommand: CLICommand {
    static let verbs = ["trading"]
    enum What: String { case positions, orders, balance, reconcile }
    let what: What
    let symbol: String?
    let adopt: Bool

    init(verb: String, arguments: [String]) throws(UsageError) {
        let usage = UsageError("usage: trading positions|orders|balance | trading reconcile [SYMBOL] [--adopt]")
        adopt = arguments.contains("--adopt")
        let rest = arguments.filter { $0 != "--adopt" }
        guard let first = rest.first, let what = What(rawValue: first),
            rest.count == 1 || (what == .reconcile && rest.count == 2), !adopt || what == .reconcile,
            !(rest.dropFirst().first?.hasPrefix("-") ?? false)
        else { throw usage }
        self.what = what
        symbol = rest.count == 2 ? rest[1] : nil
    }

    func run(_ session: CLISession) throws -> ExitCode {
        var params: [String: JSON] = [:]
        if let symbol { params["symbol"] = .string(symbol) }
        if adopt { params["adopt"] = true }
        let result = try session.call("trading.\(what.rawValue)", params.isEmpty ? nil : .object(params))
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
