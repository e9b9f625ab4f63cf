import JSON
import RPC

/// `start|stop|restart NAME...|all`: waits until the modules settle, prints each one's state.
struct ControlCommand: CLICommand {
    static let verbs = ["start", "stop", "restart"]
    let verb: String
    let names: [String]

    init(verb: String, arguments: [String]) {
        self.verb = verb
        names = arguments
    }

    func validate() throws(UsageError) {
        guard !names.isEmpty else { throw UsageError("\(verb) needs a module name (or all)") }
    }

    func run(_ session: CLISession) throws -> ExitCode {
        let params: JSON = names == ["all"] ? ["name": "all"] : ["names": .array(names.map { .string($0) })]
        do {
            let result = try session.call("module.\(verb)", params)
            session.show(result) { result in
                ((result["modules"]?.arrayValue ?? []).map {
                    "\($0["name"]?.stringValue ?? "?"): \($0["state"]?.stringValue ?? "?")"
                } + (result["notes"]?.arrayValue ?? []).compactMap(\.stringValue))
                .joined(separator: "\n")
            }
            return .ok
        } catch let error as RPCError {
            // Which module failed, and why, before the error itself.
            if !session.json, let modules = error.data?["modules"]?.arrayValue {
                for module in modules {
                    let reason = module["reason"]?.stringValue.map { " (\($0))" } ?? ""
                    print("\(module["name"]?.stringValue ?? "?"): \(module["state"]?.stringValue ?? "?")\(reason)")
                }
            }
            throw error
        }
    }
}
