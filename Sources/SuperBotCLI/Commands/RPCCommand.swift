import JSON

/// `rpc METHOD [JSON]`: any method, the raw result.
struct RPCCommand: CLICommand {
    static let verbs = ["rpc"]
    let method: String
    let params: JSON?

    init(verb: String, arguments: [String]) throws(UsageError) {
        guard arguments.count == 1 || arguments.count == 2 else { throw UsageError("usage: rpc METHOD [JSON]") }
        method = arguments[0]
        if arguments.count == 2 {
            do {
                params = try JSON.parse(arguments[1])
            } catch {
                throw UsageError("params are not valid JSON: \(error)")
            }
        } else {
            params = nil
        }
    }

    func run(_ session: CLISession) throws -> ExitCode {
        print(try session.call(method, params).serialized())
        return .ok
    }
}
