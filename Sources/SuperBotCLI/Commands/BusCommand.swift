import JSON
import SystemKit

/// `bus pub TOPIC [JSON]`, `bus sub PATTERN...`, and `events` (the system's own topics).
struct BusCommand: CLICommand {
    static let verbs = ["bus", "events"]
    static let systemPatterns = ["system.>", "module.*", "config.>", "alert.>"]

    enum Action {
        case publish(topic: String, data: JSON)
        case subscribe([String])
    }

    let action: Action

    init(verb: String, arguments: [String]) throws(UsageError) {
        if verb == "events" {
            guard arguments.isEmpty else { throw UsageError("usage: events") }
            action = .subscribe(BusCommand.systemPatterns)
            return
        }
        let usage = "usage: bus pub TOPIC [JSON] | bus sub PATTERN..."
        guard arguments.count >= 2 else { throw UsageError(usage) }
        switch arguments[0] {
        case "pub":
            guard arguments.count <= 3 else { throw UsageError("usage: bus pub TOPIC [JSON]") }
            var data = JSON.null
            if arguments.count == 3 {
                do {
                    data = try JSON.parse(arguments[2])
                } catch {
                    throw UsageError("data is not valid JSON: \(error) (quote strings: '\"text\"')")
                }
            }
            action = .publish(topic: arguments[1], data: data)
        case "sub":
            action = .subscribe(Array(arguments.dropFirst()))
        default:
            throw UsageError(usage)
        }
    }

    func run(_ session: CLISession) throws -> ExitCode {
        switch action {
        case .publish(let topic, let data):
            let result = try session.call("bus.publish", ["topic": .string(topic), "data": data])
            session.show(result) { "delivered to \($0["delivered"]?.intValue ?? 0) subscriber(s)" }
            return .ok
        case .subscribe(let patterns):
            try subscribe(patterns, session)
        }
    }

    /// Prints each message as one JSON line (topic, data, source, seq, ts) until interrupted.
    private func subscribe(_ patterns: [String], _ session: CLISession) throws -> Never {
        let client = try session.connect()
        _ = try client.call("bus.subscribe", ["patterns": .array(patterns.map { .string($0) })])
        Socket.setReceiveTimeout(client.fd, seconds: 0)
        while true {
            let message = try client.readMessage()
            switch message["method"]?.stringValue {
            case "bus.message": session.emit((message["params"] ?? .null).serialized())
            case "bus.dropped":
                let dropped = message["params"]?["dropped"]?.intValue ?? 0
                CLISession.printError(
                    "superbot-cli: the daemon dropped \(dropped) message(s): this terminal is not keeping up")
            default: break
            }
        }
    }
}
