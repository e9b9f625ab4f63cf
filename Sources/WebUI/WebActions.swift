import JSON
import RPC
import SuperBotModule

/// The state-changing requests: asked of the daemon or the trading module at the moment (never
/// decided on a snapshot), with RPC errors turned into HTTP statuses.
struct WebActions: Sendable {
    let runtime: ModuleRuntime
    let state: WebState
    let poller: DaemonPoller

    typealias Answer = WebSnapshot.Answer
    static func detail(_ status: Int, _ text: String) -> Answer { WebSnapshot.detail(status, text) }

    static let done = ["start": "started", "stop": "stopped", "restart": "restarted"]

    func engine(_ action: String, _ symbol: String) async -> Answer {
        guard runtime.isConnected else { return Self.detail(503, "the SuperBot daemon is not reachable") }
        let current: JSON
        do {
            current = try await runtime.call("engines.status", ["symbol": .string(symbol)], timeout: 10)
        } catch {
            return Self.engineFailure(error, symbol)
        }
        let status = current["status"]?.stringValue ?? ""
        if action == "start" && ["running", "paused", "starting"].contains(status) {
            return Self.detail(409, "Engine \(symbol) is already \(status)")
        }
        if action == "stop" && status == "stopped" { return Self.detail(409, "Engine \(symbol) is already stopped") }
        let after: JSON
        do {
            after = try await runtime.call("engines.\(action)", ["symbol": .string(symbol)], timeout: 30)
        } catch {
            return Self.engineFailure(error, symbol)
        }
        state.update { s in
            if let i = s.engines?.firstIndex(where: { $0["symbol"]?.stringValue == symbol }) { s.engines?[i] = after }
        }
        poller.kick()
        return (
            200, ["ok": true, "symbol": .string(symbol), "status": .string(Self.done[action]!), "engine": after]
        )
    }

    static func engineFailure(_ error: any Error, _ symbol: String) -> Answer {
        guard let rpc = error as? RPCError else { return detail(503, "the trading module did not answer: \(error)") }
        switch rpc.code {
        case -32602 where rpc.message.contains("unknown symbol"): return detail(404, "Engine \(symbol) not found")
        case -32602: return detail(400, rpc.message)
        case -32601, -32002, -32004: return detail(503, "the trading module is not available: \(rpc.message)")
        default: return detail(500, rpc.message)
        }
    }

    func module(_ action: String, _ name: String) async -> Answer {
        guard runtime.isConnected else { return Self.detail(503, "the SuperBot daemon is not reachable") }
        let current: JSON
        do {
            current = try await runtime.call("module.status", ["name": .string(name)], timeout: 10)
        } catch {
            return Self.moduleFailure(error, name)
        }
        let status = current["state"]?.stringValue ?? ""
        if action == "start" && ["running", "starting"].contains(status) {
            return Self.detail(409, "Module \(name) is already \(status)")
        }
        if action == "stop" && ["stopped", "fatal"].contains(status) {
            return Self.detail(409, "Module \(name) is already \(status)")
        }
        do {
            _ = try await runtime.call(
                "module.\(action)", ["name": .string(name), "wait": true, "timeout": 30], timeout: 35)
        } catch {
            return Self.moduleFailure(error, name)
        }
        let after = try? await runtime.call("module.status", ["name": .string(name)], timeout: 10)
        poller.kick()
        return (
            200,
            [
                "ok": true, "module": .string(name), "status": .string(Self.done[action]!),
                "state": after?["state"] ?? .null,
            ]
        )
    }

    static func moduleFailure(_ error: any Error, _ name: String) -> Answer {
        guard let rpc = error as? RPCError else { return detail(503, "the daemon did not answer: \(error)") }
        switch rpc.code {
        case -32001: return detail(404, "Module \(name) not found")
        case -32602: return detail(400, rpc.message)
        case -32004: return detail(503, "the daemon is shutting down")
        case -32000: return detail(503, "the web UI is not authorized by the daemon: \(rpc.message)")
        default:
            var out: [String: JSON] = ["detail": .string(rpc.message)]
            if let data = rpc.data { out["modules"] = data }
            return (500, .object(out))
        }
    }

    /// The last `lines` lines of a module's (or the daemon's) output log.
    func logs(_ name: String, lines: Int) async -> Answer {
        guard runtime.isConnected else { return Self.detail(503, "the SuperBot daemon is not reachable") }
        do {
            let answer = try await runtime.call(
                "logs.stream", ["name": .string(name), "lines": JSON(lines)], timeout: 10)
            return (200, ["name": .string(name), "lines": answer["lines"] ?? []])
        } catch {
            return Self.moduleFailure(error, name)
        }
    }
}
