import JSON
import RPC

/// `status [NAME...]`: the module table.
struct StatusCommand: CLICommand {
    static let verbs = ["status"]
    let names: [String]

    init(verb: String, arguments: [String]) { names = arguments }

    func run(_ session: CLISession) throws -> ExitCode {
        var modules = try session.call("module.list")["modules"]?.arrayValue ?? []
        if !names.isEmpty {
            let known = Set(modules.compactMap { $0["name"]?.stringValue })
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw RPCError.notFound("no module named '\(unknown)'")
            }
            modules = modules.filter { names.contains($0["name"]?.stringValue ?? "") }
        }
        session.show(.array(modules)) { Table.modules($0.arrayValue ?? []) }
        return .ok
    }
}
