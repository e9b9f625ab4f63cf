import JSON

/// `module status NAME`: everything the daemon knows about one module.
struct ModuleCommand: CLICommand {
    static let verbs = ["module"]
    let name: String

    init(verb: String, arguments: [String]) throws(UsageError) {
        guard arguments.count == 2, arguments[0] == "status" else { throw UsageError("usage: module status NAME") }
        name = arguments[1]
    }

    func run(_ session: CLISession) throws -> ExitCode {
        session.show(try session.call("module.status", ["name": .string(name)]), Table.keyValues)
        return .ok
    }
}
