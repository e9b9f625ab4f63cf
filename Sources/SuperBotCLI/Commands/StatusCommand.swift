import JSON
import RPC

/// `status [NAME...]`: the module table.
struct StatusCommand: CLICommand {
    static let verbs = ["status"]
    let names: [String]

    init(verb: String, arguments: [String]) { names = arguments }

    func run(_ session: CLISession) throws -> ExitCode {
        // Named modules are asked for by name, so the daemon answers for those alone.
        let params: JSON? = names.isEmpty ? nil : ["names": .array(names.map { .string($0) })]
        let modules = try session.call("module.list", params)["modules"]?.arrayValue ?? []
        session.show(.array(modules)) { Table.modules($0.arrayValue ?? []) }
        return .ok
    }
}
