import Glibc
import JSON
import RPC
import SuperBotConfig
import Supervision
import SystemKit

/// The control socket's methods. Each validates its params and answers with a result or a
/// JSON-RPC error that says what was wrong and what to do.
extension Daemon {
    static let methods = [
        "daemon.status", "daemon.stop", "daemon.reload_config", "module.start", "module.stop", "module.restart",
        "module.status", "module.list", "monitoring.health", "monitoring.metrics", "monitoring.resources", "logs.stream",
        "auth.login", "bus.publish", "bus.subscribe", "bus.unsubscribe", "rpc.register", "rpc.unregister",
    ]

    func handle(_ request: RPCRequest, _ connection: Connection, _ reply: @escaping ControlServer.Reply) {
        if isShuttingDown && request.method != "daemon.status" && request.method != "daemon.stop" {
            return reply(.failure(.shuttingDown()))
        }
        switch request.method {
        case "daemon.status": reply(.success(daemonStatus()))
        case "daemon.stop":
            reply(.success(["stopping": true]))
            loop.schedule(after: 0) { [unowned self] in self.beginShutdown() }
        case "daemon.reload_config": reply(reloadConfig())
        case "module.list":
            reply(.success(["modules": .array(graph.startOrder().compactMap { modules[$0]?.statusJSON(detailed: false) })]))
        case "module.status":
            reply(moduleNamed(request).map { $0.statusJSON(detailed: true) })
        case "module.start", "module.stop", "module.restart":
            control(request, reply)
        case "monitoring.health": reply(.success(health()))
        case "monitoring.metrics": reply(.success(metricsJSON()))
        case "monitoring.resources": reply(.success(resourcesJSON()))
        case "logs.stream": reply(logsStream(request, connection))
        case "bus.publish", "bus.subscribe", "bus.unsubscribe": handleBus(request, connection, reply)
        case "rpc.register", "rpc.unregister": reply(handleRegistration(request, connection))
        default:
            if forwardIfRegistered(request, reply) { return }
            let hint = suggestionFor(request.method)
            let served = registeredMethods.keys.sorted()
            var message = "Method not found: \(request.method)" + (hint.map { "; did you mean '\($0)'?" } ?? "")
            if let dot = request.method.firstIndex(of: "."), !Daemon.methods.contains(where: { $0.hasPrefix(request.method[...dot]) }) {
                message += "; no module serves it" + (served.isEmpty ? "" : " (served by modules: \(served.joined(separator: ", ")))")
            }
            reply(.failure(RPCError(code: -32601, message: message)))
        }
    }

    private func suggestionFor(_ method: String) -> String? {
        SuperBotConfig.suggestion(for: method, in: Daemon.methods)
    }

    /// A named parameter, or the positional one at `index`.
    func param(_ request: RPCRequest, _ key: String, _ index: Int = 0) -> JSON? {
        if let value = request.params?[key] { return value }
        if let array = request.params?.arrayValue, index < array.count { return array[index] }
        return nil
    }

    private func moduleNamed(_ request: RPCRequest) -> Result<ModuleRunner, RPCError> {
        guard let name = param(request, "name")?.stringValue else {
            return .failure(.invalidParams("\(request.method) needs {\"name\": \"<module>\"}"))
        }
        guard let runner = modules[name] else { return .failure(unknownModule(name)) }
        return .success(runner)
    }

    private func unknownModule(_ name: String) -> RPCError {
        let hint = SuperBotConfig.suggestion(for: name, in: Array(modules.keys)).map { "; did you mean '\($0)'?" } ?? ""
        return .notFound("no module named '\(name)'\(hint) (superbot-cli status lists them)")
    }

    // MARK: daemon.*

    private func daemonStatus() -> JSON {
        var counts: [String: JSON] = [:]
        for state in ModuleState.allCases { counts[state.rawValue] = JSON(modules.values.filter { $0.state == state }.count) }
        return [
            "pid": JSON(getpid()), "version": .string(Daemon.version),
            "uptime_seconds": JSON((Clock.monotonic() - startedMono).rounded(.down)),
            "started_at": .string(Clock.iso8601(startedWall)), "config_file": .string(config.file),
            "base_directory": .string(FileSystem.absolute(config.baseDirectory)), "socket": .string(FileSystem.absolute(socketPath)),
            "modules": JSON(modules.count), "states": .object(counts), "shutting_down": .bool(isShuttingDown),
        ]
    }

    // MARK: module.start|stop|restart

    private func control(_ request: RPCRequest, _ reply: @escaping ControlServer.Reply) {
        var names: [String]
        if let list = param(request, "names")?.arrayValue {
            names = list.compactMap(\.stringValue)
            guard names.count == list.count, !names.isEmpty else { return reply(.failure(.invalidParams("'names' must be a non-empty list of module names"))) }
        } else if let name = param(request, "name")?.stringValue {
            names = [name]
        } else {
            return reply(.failure(.invalidParams("\(request.method) needs {\"name\": \"<module>|all\"} or {\"names\": [...]}")))
        }
        let all = names == ["all"]
        if all {
            names = request.method == "module.stop"
                ? modules.values.filter { $0.state != .stopped }.map(\.name)
                : modules.values.filter { $0.spec.enabled }.map(\.name)
        }
        for name in names where modules[name] == nil { return reply(.failure(unknownModule(name))) }
        if !all, let disabled = names.first(where: { !(modules[$0]!.spec.enabled) }), request.method != "module.stop" {
            return reply(.failure(.failed("module '\(disabled)' is disabled (enabled: false in \(config.file)); enable it and reload")))
        }
        let waitForIt = param(request, "wait", 1)?.boolValue ?? true
        let timeout = param(request, "timeout", 2)?.doubleValue ?? 60
        guard timeout > 0, timeout <= 3600 else { return reply(.failure(.invalidParams("'timeout' must be between 0 and 3600 seconds"))) }

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
        let done: () -> Bool = { [unowned self] in
            names.allSatisfy { name in
                guard let runner = self.modules[name] else { return true }
                if self.isQueued(name) { return false }
                switch runner.state {
                case .running: return !isStop
                case .stopped, .fatal, .crashed: return true
                case .backoff: return !isStop
                case .starting, .stopping: return false
                }
            }
        }
        let respond: () -> Void = { [unowned self] in
            let statuses = names.compactMap { self.modules[$0]?.statusJSON(detailed: false) }
            let failedOnes = names.compactMap { name -> String? in
                guard let runner = self.modules[name] else { return nil }
                let ok = isStop ? !runner.state.hasProcess : runner.state == .running
                return ok ? nil : "\(name) is \(runner.state.rawValue)" + (runner.lifecycle.reason.map { " (\($0))" } ?? "")
            }
            if failedOnes.isEmpty {
                reply(.success(["modules": .array(statuses)]))
            } else {
                reply(.failure(.failed(failedOnes.joined(separator: "; "), data: ["modules": .array(statuses)])))
            }
        }
        guard waitForIt else { return reply(.success(["modules": .array(names.compactMap { modules[$0]?.statusJSON(detailed: false) })])) }
        wait(until: done, timeout: timeout, then: respond) {
            reply(.failure(.failed("timed out after \(timeout) s waiting for \(names.joined(separator: ", ")); see superbot-cli status")))
        }
    }

    // MARK: monitoring.*

    private func health() -> JSON {
        var moduleStates: [String: JSON] = [:]
        var failing: [JSON] = []
        for runner in modules.values {
            moduleStates[runner.name] = .string(runner.state.rawValue)
            let expected = runner.spec.enabled && config.autostart.contains(runner.name) && !state.operatorStopped.contains(runner.name)
            if expected && runner.state != .running { failing.append(.string(runner.name)) }
        }
        let status = isShuttingDown ? "stopping" : failing.isEmpty ? "ok" : "degraded"
        return ["status": .string(status), "modules": .object(moduleStates), "failing": .array(failing), "uptime_seconds": JSON((Clock.monotonic() - startedMono).rounded(.down))]
    }

    private func metricsJSON() -> JSON {
        var o = metrics.json.objectValue ?? [:]
        o["rpc.connections"] = JSON(server.connections.count)
        o["logs.followers"] = JSON(followers.count)
        o["bus.published"] = JSON(bus.published)
        o["bus.delivered"] = JSON(bus.delivered)
        o["bus.subscriptions"] = JSON(bus.subscriptionCount)
        o["rpc.registered_methods"] = JSON(registeredMethods.count)
        o["modules.total"] = JSON(modules.count)
        for state in ModuleState.allCases { o["modules.\(state.rawValue)"] = JSON(modules.values.filter { $0.state == state }.count) }
        o["daemon.uptime_seconds"] = JSON((Clock.monotonic() - startedMono).rounded(.down))
        return .object(o)
    }

    private func resourcesJSON() -> JSON {
        var perModule: [String: JSON] = [:]
        for runner in modules.values where runner.pid != nil {
            let r = runner.liveResources()
            perModule[runner.name] = [
                "pid": JSON(runner.pid!), "cpu_percent": JSON((r.cpuPercent * 10).rounded() / 10), "rss_bytes": JSON(r.rssBytes),
                "threads": JSON(r.threads), "open_files": JSON(r.openFiles), "children": JSON(r.children), "process_state": JSON(r.processState),
            ]
        }
        return ["daemon": daemonResources(), "modules": .object(perModule)]
    }

    // MARK: logs.stream

    private func logsStream(_ request: RPCRequest, _ connection: Connection) -> Result<JSON, RPCError> {
        let symbol = request.params?["symbol"]?.stringValue
        guard let name = param(request, "name")?.stringValue ?? symbol.map({ "engine-" + $0 }) else {
            return .failure(.invalidParams("logs.stream needs {\"name\": \"<module>|daemon\"} or {\"symbol\": \"BTCUSDT\"}, plus \"lines\": N, \"follow\": bool"))
        }
        let lines = param(request, "lines", 1)?.intValue ?? 10
        guard lines >= 0, lines <= 100_000 else { return .failure(.invalidParams("'lines' must be between 0 and 100000")) }
        let follow = param(request, "follow", 2)?.boolValue ?? false
        let path: () -> String
        if let symbol {
            // One engine's structured log, dated; the follower moves to the new file at midnight UTC.
            guard (2...20).contains(symbol.count), symbol.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) }) else {
                return .failure(.invalidParams("'\(symbol)' is not a symbol (upper-case letters and digits, like BTCUSDT)"))
            }
            let directory = daemonLog.directory
            path = { "\(directory)/engine-\(symbol)-\(Clock.utcDay(Clock.wall())).jsonl" }
        } else if name == "daemon" {
            let sink = daemonLog
            path = { sink.currentPath }
        } else if let runner = modules[name] {
            let file = runner.logPath
            path = { file }
        } else {
            return .failure(unknownModule(name))
        }
        let current = path()
        let tail = LogFollower.tail(current, lines: lines)
        if follow { addFollower(LogFollower(connection: connection, name: name, path: path)) }
        return .success(["name": .string(name), "file": .string(current), "lines": .array(tail.map { .string($0) }), "following": .bool(follow)])
    }
}
