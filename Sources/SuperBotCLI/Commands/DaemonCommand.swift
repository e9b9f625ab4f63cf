import JSON

/// `daemon status|stop|reload`.
struct DaemonCommand: CLICommand {
    static let verbs = ["daemon"]
    enum Action: String { case status, stop, reload }
    let action: Action

    init(verb: String, arguments: [String]) throws(UsageError) {
        guard arguments.count == 1, let action = Action(rawValue: arguments[0]) else {
            throw UsageError("usage: daemon status|stop|reload")
        }
        self.action = action
    }

    func run(_ session: CLISession) throws -> ExitCode {
        switch action {
        case .status:
            session.show(try session.call("daemon.status"), Table.keyValues)
        case .reload:
            session.show(try session.call("daemon.reload_config")) { result in
                (["changed", "added", "removed"].map { key in
                    let names = result[key]?.arrayValue?.compactMap(\.stringValue) ?? []
                    return "\(key): \(names.isEmpty ? "-" : names.joined(separator: ", "))"
                } + (result["infrastructure_changed"]?.boolValue == true ? ["infrastructure.yaml: applied"] : []))
                .joined(separator: "\n")
            }
        case .stop:
            let client = try session.connect()
            let result = try client.call("daemon.stop")
            // The daemon closes every connection once its modules are down: wait for that. Its
            // last word (`daemon.stopped`) says which processes outlived their modules.
            var killed: JSON?
            while let line = try? client.readLine() {
                if let notice = try? JSON.parse(line), notice["method"] == "daemon.stopped" {
                    killed = notice["params"]?["killed"]
                }
            }
            let pids = killed?["pids"]?.arrayValue ?? []
            let modules = (killed?["modules"]?.arrayValue ?? []).compactMap(\.stringValue)
            var shown = result.objectValue ?? [:]
            shown["killed"] = killed ?? .null
            session.show(.object(shown)) { _ in
                pids.isEmpty
                    ? "daemon stopped"
                    : "daemon stopped; killed \(pids.count) process\(pids.count == 1 ? "" : "es") that outlived their modules (\(modules.joined(separator: ", ")))"
            }
        }
        return .ok
    }
}
