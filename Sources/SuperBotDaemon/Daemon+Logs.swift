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
                    self.server.send(RPCResponse.notification("logs.line", ["name": .string(follower.name), "line": .string(line)]), to: follower.connection)
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
