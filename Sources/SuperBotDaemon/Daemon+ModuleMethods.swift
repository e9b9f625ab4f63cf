import Glibc
import JSON
import RPC
import SuperBotConfig
import Supervision
import SystemKit

/// `module.*`: list, status, and start/stop/restart with dependencies, waiting until modules settle.
extension Daemon {
    var moduleMethods: MethodNamespace {
        MethodNamespace("module", ["start", "stop", "restart", "status", "list"]) { [unowned self] request, _, reply in
            switch request.method {
            case "module.list":
                var order = graph.startOrder()
                if let list = param(request, "names")?.arrayValue {
                    let names = list.compactMap(\.stringValue)
                    guard names.count == list.count else {
                        return reply(.failure(.invalidParams("'names' must be a list of module names")))
                    }
                    if let unknown = names.first(where: { modules[$0] == nil }) {
                        return reply(.failure(unknownModule(unknown)))
                    }
                    order = names
                }
                reply(.success(["modules": .array(order.compactMap { modules[$0]?.statusJSON(detailed: false) })]))
            case "module.status":
                reply(moduleNamed(request).map { $0.statusJSON(detailed: true) })
            default:
                control(request, reply)
            }
        }
    }

    func control(_ request: RPCRequest, _ reply: @escaping ControlServer.Reply) {
        var names: [String]
        if let list = param(request, "names")?.arrayValue {
            names = list.compactMap(\.stringValue)
            guard names.count == list.count, !names.isEmpty else {
                return reply(.failure(.invalidParams("'names' must be a non-empty list of module names")))
            }
        } else if let name = param(request, "name")?.stringValue {
            names = [name]
        } else {
            return reply(
                .failure(.invalidParams("\(request.method) needs {\"name\": \"<module>|all\"} or {\"names\": [...]}")))
        }
        let all = names == ["all"]
        if all {
            names =
                request.method == "module.stop"
                ? modules.values.filter { $0.state != .stopped }.map(\.name)
                : modules.values.filter { $0.spec.enabled }.map(\.name)
        }
        for name in names where modules[name] == nil { return reply(.failure(unknownModule(name))) }
        if !all, let disabled = names.first(where: { !(modules[$0]!.spec.enabled) }), request.method != "module.stop" {
            return reply(
                .failure(
                    .failed("module '\(disabled)' is disabled (enabled: false in \(config.file)); enable it and reload")
                ))
        }
        let waitForIt = param(request, "wait", 1)?.boolValue ?? true
        let timeout = param(request, "timeout", 2)?.doubleValue ?? 60
        guard timeout > 0, timeout <= 3600 else {
            return reply(.failure(.invalidParams("'timeout' must be between 0 and 3600 seconds")))
        }

        if let params = request.params?["params"] {
            guard request.method == "module.start", names.count == 1, !all else {
                return reply(
                    .failure(
                        .invalidParams(
                            "'params' go with module.start of one module: {\"name\": ..., \"params\": {...}}"))
                )
            }
            let runner = modules[names[0]]!
            guard !runner.state.hasProcess else {
                return reply(
                    .failure(
                        .failed(
                            "module '\(runner.name)' is already \(runner.state.rawValue); parameters apply to a new run: wait for it to end or stop it"
                        )))
            }
            switch RunParameters.arguments(params) {
            case .failure(let error): return reply(.failure(error))
            case .success(let arguments):
                runner.runArguments = arguments
                paramRuns[runner.name] = false
            }
        }

        switch request.method {
        case "module.start":
            for name in names { state.setStopped(name, false) }
            enqueueStart(Array(graph.closure(of: names)))
        case "module.stop":
            for name in names { state.setStopped(name, true) }
            enqueueStop(names)
        default:
            for name in names {
                state.setStopped(name, false)
                modules[name]!.restart()
            }
        }
        let isStop = request.method == "module.stop"
        let notes = names.compactMap { tradingOverrideNote(module: $0, open: !isStop) }
        let respond: () -> Void = { [unowned self] in
            let statuses = names.compactMap { self.modules[$0]?.statusJSON(detailed: false) }
            let failedOnes = names.compactMap { name -> String? in
                guard let runner = self.modules[name] else { return nil }
                let ok = isStop ? !runner.state.hasProcess : runner.state == .running
                return ok
                    ? nil : "\(name) is \(runner.state.rawValue)" + (runner.lifecycle.reason.map { " (\($0))" } ?? "")
            }
            if failedOnes.isEmpty {
                reply(.success(["modules": .array(statuses), "notes": .array(notes.map { .string($0) })]))
            } else {
                reply(.failure(.failed(failedOnes.joined(separator: "; "), data: ["modules": .array(statuses)])))
            }
        }
        guard waitForIt else {
            return reply(
                .success([
                    "modules": .array(names.compactMap { modules[$0]?.statusJSON(detailed: false) }),
                    "notes": .array(notes.map { .string($0) }),
                ]))
        }
        wait(for: names, stopping: isStop, timeout: timeout, then: respond) {
            reply(
                .failure(
                    .failed(
                        "timed out after \(timeout) s waiting for \(names.joined(separator: ", ")); see superbot-cli status"
                    )))
        }
    }
}
