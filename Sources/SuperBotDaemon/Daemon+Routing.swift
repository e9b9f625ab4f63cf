import Bus
import JSON
import RPC
import SuperBotConfig
import SystemKit

/// A request the daemon forwarded to the module that serves its method, awaiting the reply.
struct ForwardedCall {
    let method: String
    let module: Connection
    let reply: ControlServer.Reply
    let timer: EventLoop.TimerID
}

/// Method routing: `rpc.register|unregister`, and requests for methods a module registered, forwarded to it with the daemon's own id.
extension Daemon {
    var rpcMethods: MethodNamespace {
        MethodNamespace("rpc", ["register", "unregister"]) { [unowned self] request, connection, reply in
            reply(handleRegistration(request, connection))
        }
    }

    // MARK: rpc.register

    func handleRegistration(_ request: RPCRequest, _ connection: Connection) -> Result<JSON, RPCError> {
        let methods =
            param(request, "methods")?.arrayValue?.compactMap(\.stringValue)
            ?? param(request, "method").flatMap(\.stringValue).map { [$0] } ?? []
        let logs = request.params?["logs"]?.objectValue ?? [:]
        guard !methods.isEmpty || (!logs.isEmpty && request.method == "rpc.register") else {
            return .failure(
                .invalidParams(
                    "\(request.method) needs {\"methods\": [\"trading.positions\", …]} (and may declare \"logs\": {\"symbol\": \"/…/engine-{symbol}-{date}.jsonl\"})"
                ))
        }
        if request.method == "rpc.unregister" {
            for method in methods where registeredMethods[method] === connection { registeredMethods[method] = nil }
            return .success(["unregistered": .array(methods.map { .string($0) })])
        }
        for method in methods {
            if let reserved = methodTable.reservedNamespace(for: method) {
                return .failure(
                    .invalidParams(
                        "'\(method)' is reserved for the daemon ('\(reserved).…'); use a prefix of your own, e.g. 'trading.'"
                    ))
            }
            do {
                try Topic.validate(method)
            } catch {
                return .failure(
                    .invalidParams("method name '\(method)' must be dot-separated words (letters, digits, '-', '_')"))
            }
            if let owner = registeredMethods[method], owner !== connection, owner.isOpen {
                return .failure(.failed("'\(method)' is already served by \(source(of: owner))"))
            }
        }
        var declared: [DeclaredLog] = []
        for (key, template) in logs.sorted(by: { $0.key < $1.key }) {
            do {
                guard let text = template.stringValue else {
                    throw DeclaredLog.Invalid(description: "log template for '\(key)' must be a string")
                }
                declared.append(try DeclaredLog(key: key, template: text, module: source(of: connection)))
            } catch {
                return .failure(.invalidParams("\(error)"))
            }
        }
        for method in methods { registeredMethods[method] = connection }
        // Declarations outlive the connection: the files are still there while the module restarts.
        for log in declared { declaredLogs[log.key] = log }
        if !declared.isEmpty {
            logger.info(
                "logs declared",
                ["source": .string(source(of: connection)), "logs": .array(declared.map { .string($0.template) })])
        }
        logger.info(
            "methods registered",
            ["source": .string(source(of: connection)), "methods": .array(methods.map { .string($0) })])
        return .success([
            "registered": .array(methods.map { .string($0) }), "logs": .array(declared.map { .string($0.key) }),
        ])
    }

    /// Forwards a request to the module serving its method; `false` if no module does.
    func forwardIfRegistered(_ request: RPCRequest, _ reply: @escaping ControlServer.Reply) -> Bool {
        guard let module = registeredMethods[request.method], module.isOpen else { return false }
        nextForwardID += 1
        let id = nextForwardID
        let timeout = config.ipc.requestTimeout
        let owner = source(of: module)
        let timer = loop.schedule(after: timeout) { [unowned self] in
            guard let call = self.forwarded.removeValue(forKey: id) else { return }
            self.metrics.routedTimeouts += 1
            call.reply(
                .failure(.failed("\(owner) did not answer '\(call.method)' within \(timeout) s (ipc.request_timeout)")))
        }
        forwarded[id] = ForwardedCall(method: request.method, module: module, reply: reply, timer: timer)
        metrics.routedRequests += 1
        server.send(RPCRequest(id: JSON(id), method: request.method, params: request.params).json, to: module)
        return true
    }

    func routeResponse(_ connection: Connection, _ id: JSON, _ result: Result<JSON, RPCError>) {
        guard let key = id.intValue, let call = forwarded[key], call.module === connection else {
            logger.debug("unexpected response on the control socket", ["id": id])
            return
        }
        forwarded[key] = nil
        loop.cancel(call.timer)
        call.reply(result)
    }

    /// A serving connection went away: its methods are free again, and callers waiting on it hear why.
    func unregisterMethods(of connection: Connection) {
        for (method, owner) in registeredMethods where owner === connection { registeredMethods[method] = nil }
        for (id, call) in forwarded where call.module === connection {
            forwarded[id] = nil
            loop.cancel(call.timer)
            call.reply(.failure(.failed("\(source(of: connection)) disconnected before answering '\(call.method)'")))
        }
    }
}
