import Glibc
import JSON
import RPC
import SuperBotConfig
import Supervision
import SystemKit

/// `logs.*`: the tail of a module's, the daemon's or an engine's log, and following it.
extension Daemon {
    var logsMethods: MethodNamespace {
        MethodNamespace("logs", ["stream"]) { [unowned self] request, connection, reply in
            reply(logsStream(request, connection))
        }
    }

    func logsStream(_ request: RPCRequest, _ connection: Connection) -> Result<JSON, RPCError> {
        // A declared family (`{"symbol": "BTCUSDT"}`), else a module's output or the daemon's log.
        let family = declaredLogs.values.sorted { $0.key < $1.key }.first { request.params?[$0.key] != nil }
        let value = family.flatMap { request.params?[$0.key]?.stringValue }
        var familyName: String?
        if let family, let value { familyName = family.name(value) }
        guard let name = param(request, "name")?.stringValue ?? familyName else {
            if let key = ["symbol"].first(where: { request.params?[$0] != nil }) {
                return .failure(
                    .failed(
                        "no running module declared logs by '\(key)' (the trading module declares them when it connects)"
                    ))
            }
            let keys = declaredLogs.keys.sorted().map { " or {\"\($0)\": …}" }.joined()
            return .failure(
                .invalidParams(
                    "logs.stream needs {\"name\": \"<module>|daemon\"}\(keys), plus \"lines\": N, \"follow\": bool"))
        }
        let lines = param(request, "lines", 1)?.intValue ?? 10
        guard lines >= 0, lines <= 100_000 else {
            return .failure(.invalidParams("'lines' must be between 0 and 100000"))
        }
        let follow = param(request, "follow", 2)?.boolValue ?? false
        let path: () -> String
        if let family, let value {
            guard DeclaredLog.isSafe(value) else {
                return .failure(
                    .invalidParams(
                        "'\(value)' is not a valid \(family.key) (letters, digits, '-' or '_', like BTCUSDT)"))
            }
            // Dated files: the follower moves to the new one at midnight UTC.
            path = { family.path(value, day: Clock.utcDay(Clock.wall())) }
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
        return .success([
            "name": .string(name), "file": .string(current), "lines": .array(tail.map { .string($0) }),
            "following": .bool(follow),
        ])
    }

    func addFollower(_ follower: LogFollower) {
        followers.append(follower)
        follower.connection.streams += 1
        if followTimer == nil { scheduleFollowPoll() }
    }

    func scheduleFollowPoll() {
        followTimer = loop.schedule(after: 0.1) { [unowned self] in
            self.followTimer = nil
            for follower in self.followers {
                let lines = follower.poll()
                for line in lines {
                    self.server.send(
                        RPCResponse.notification("logs.line", ["name": .string(follower.name), "line": .string(line)]),
                        to: follower.connection)
                }
            }
            if !self.followers.isEmpty { self.scheduleFollowPoll() }
        }
    }

    func connectionClosed(_ connection: Connection) {
        followers.removeAll { $0.connection === connection }
        bus.connectionClosed(connection)
        unregisterMethods(of: connection)
    }
}
