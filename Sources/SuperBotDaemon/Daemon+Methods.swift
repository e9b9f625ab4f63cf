import Glibc
import JSON
import RPC
import SuperBotConfig
import Supervision
import SystemKit

/// Dispatch through the method table. Each namespace validates its params and answers with a
/// result or a JSON-RPC error that says what was wrong and what to do.
extension Daemon {
    func makeMethodTable() -> MethodTable {
        MethodTable([
            daemonMethods, moduleMethods, monitoringMethods, logsMethods, busMethods, rpcMethods, authMethods,
            schedulerMethods, cacheMethods,
        ])
    }

    var authMethods: MethodNamespace {
        MethodNamespace("auth", ["login"], requiresAuth: false) { [unowned self] request, connection, reply in
            reply(server.login(request, connection))
        }
    }

    func handle(_ request: RPCRequest, _ connection: Connection, _ reply: @escaping ControlServer.Reply) {
        let namespace = methodTable.namespace(of: request.method)
        if isShuttingDown && namespace?.duringShutdown.contains(request.method) != true {
            return reply(.failure(.shuttingDown()))
        }
        if let namespace, namespace.methods.contains(request.method) {
            return namespace.handler(request, connection, reply)
        }
        if namespace == nil, forwardIfRegistered(request, reply) { return }
        let hint = SystemKit.suggestion(for: request.method, in: methodTable.methods)
        var message = "Method not found: \(request.method)" + (hint.map { "; did you mean '\($0)'?" } ?? "")
        if namespace == nil, request.method.contains(".") {
            let served = registeredMethods.keys.sorted()
            message +=
                "; no module serves it"
                + (served.isEmpty ? "" : " (served by modules: \(served.joined(separator: ", ")))")
        }
        reply(.failure(RPCError(code: -32601, message: message)))
    }

    /// A named parameter, or the positional one at `index`.
    func param(_ request: RPCRequest, _ key: String, _ index: Int = 0) -> JSON? {
        if let value = request.params?[key] { return value }
        if let array = request.params?.arrayValue, index < array.count { return array[index] }
        return nil
    }

    func moduleNamed(_ request: RPCRequest) -> Result<ModuleRunner, RPCError> {
        guard let name = param(request, "name")?.stringValue else {
            return .failure(.invalidParams("\(request.method) needs {\"name\": \"<module>\"}"))
        }
        guard let runner = modules[name] else { return .failure(unknownModule(name)) }
        return .success(runner)
    }

    func unknownModule(_ name: String) -> RPCError {
        let hint = SystemKit.suggestion(for: name, in: Array(modules.keys)).map { "; did you mean '\($0)'?" } ?? ""
        return .notFound("no module named '\(name)'\(hint) (superbot-cli status lists them)")
    }
}
