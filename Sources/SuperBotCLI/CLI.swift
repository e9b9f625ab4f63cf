import Glibc
import JSON
import RPC
import SystemKit

/// `superbot-cli`: small verbs over the daemon's socket, shaped like s6-svc/supervisorctl.
/// Exit codes: 0 ok, 1 the daemon refused or the operation failed, 2 usage, 3 daemon not running.
public struct CLI {
    public static let usage = """
        usage: superbot-cli [--json] [--socket PATH] [--token TOKEN] [--timeout S] COMMAND

        commands:
          status [NAME...]              modules: state, pid, uptime, CPU, RSS, restarts
          start|stop|restart NAME...|all
          module status NAME            everything the daemon knows about one module
          daemon status|stop|reload     the daemon itself (reload = re-read config/daemon.yaml)
          logs NAME|daemon [-f] [-n N]  last N lines (default 10) of a module's output; -f follows
          logs --symbol SYMBOL [-f] [-n N]  one trading engine's log (logs/engine-SYMBOL-DAY.jsonl)
          engines [SYMBOL]              trading engines: status, position, PnL, errors, heartbeat
          engines start|stop|restart SYMBOL
          trading positions|orders|balance
          rpc METHOD [JSON]             call any method, print the raw result
          bus pub TOPIC [JSON]          publish one message (data defaults to null)
          bus sub PATTERN...            print matching messages as JSON lines until Ctrl-C
          events                        print system events (system.>, module.*, config.>, alert.>)

        options:
          --json           print results as JSON
          --socket PATH    daemon socket (default $SUPERBOT_SOCKET or .superbot/superbot.sock)
          --token TOKEN    auth token when the daemon has one (default $SUPERBOT_TOKEN)
          --timeout S      seconds to wait for the daemon (default 90)

        exit codes: 0 ok, 1 failed, 2 usage, 3 daemon not running
        """

    public struct Options: Equatable {
        public var json = false
        public var socket = Environment.get("SUPERBOT_SOCKET") ?? ".superbot/superbot.sock"
        public var token = Environment.get("SUPERBOT_TOKEN")
        public var timeout = 90.0
        public var command: [String] = []
    }

    struct UsageError: Error {
        let message: String
    }

    public static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw UsageError(message: "\(flag) needs a value") }
            return v
        }
        while let arg = rest.popFirst() {
            switch arg {
            case "--json": options.json = true
            case "--socket", "-s": options.socket = try value(arg)
            case "--token": options.token = try value(arg)
            case "--timeout":
                guard let t = Double(try value(arg)), t > 0 else {
                    throw UsageError(message: "--timeout needs a positive number of seconds")
                }
                options.timeout = t
            case "-h", "--help", "help":
                options.command = ["help"]
                return options
            default: options.command.append(arg)
            }
        }
        return options
    }

    public static func main(_ arguments: [String]) -> Int32 {
        let options: Options
        do {
            options = try parse(arguments)
        } catch let error as UsageError {
            printError("superbot-cli: \(error.message)\n\n\(usage)")
            return 2
        } catch {
            return 2
        }
        var cli = CLI(options: options)
        return cli.run()
    }

    let options: Options
    var client: RPCClient?

    init(options: Options) { self.options = options }

    mutating func run() -> Int32 {
        let command = options.command
        guard let verb = command.first, verb != "help" else {
            print(CLI.usage)
            return command.isEmpty ? 2 : 0
        }
        do {
            switch verb {
            case "status": return try status(Array(command.dropFirst()))
            case "start", "stop", "restart":
                guard command.count >= 2 else { throw UsageError(message: "\(verb) needs a module name (or all)") }
                return try control(verb, Array(command.dropFirst()))
            case "module":
                guard command.count == 3, command[1] == "status" else {
                    throw UsageError(message: "usage: module status NAME")
                }
                return try moduleStatus(command[2])
            case "daemon":
                guard command.count == 2 else { throw UsageError(message: "usage: daemon status|stop|reload") }
                return try daemon(command[1])
            case "logs": return try logs(Array(command.dropFirst()))
            case "engines": return try engines(Array(command.dropFirst()))
            case "trading":
                guard command.count == 2, ["positions", "orders", "balance"].contains(command[1]) else {
                    throw UsageError(message: "usage: trading positions|orders|balance")
                }
                return try trading(command[1])
            case "bus":
                guard command.count >= 3 else {
                    throw UsageError(message: "usage: bus pub TOPIC [JSON] | bus sub PATTERN...")
                }
                if command[1] == "pub" {
                    guard command.count <= 4 else { throw UsageError(message: "usage: bus pub TOPIC [JSON]") }
                    return try publish(command[2], command.count == 4 ? command[3] : nil)
                }
                guard command[1] == "sub" else {
                    throw UsageError(message: "usage: bus pub TOPIC [JSON] | bus sub PATTERN...")
                }
                return try subscribe(Array(command.dropFirst(2)))
            case "events":
                guard command.count == 1 else { throw UsageError(message: "usage: events") }
                return try subscribe(["system.>", "module.*", "config.>", "alert.>"])
            case "rpc":
                guard command.count == 2 || command.count == 3 else {
                    throw UsageError(message: "usage: rpc METHOD [JSON]")
                }
                return try rpc(command[1], command.count == 3 ? command[2] : nil)
            default:
                throw UsageError(message: "unknown command '\(verb)'")
            }
        } catch let error as UsageError {
            CLI.printError("superbot-cli: \(error.message)\n\n\(CLI.usage)")
            return 2
        } catch let error as RPCClient.ClientError {
            CLI.printError("superbot-cli: \(error)")
            if case .notRunning = error { return 3 }
            return 1
        } catch let error as RPCError {
            if options.json, let data = error.data { print(data.serialized()) }
            CLI.printError("superbot-cli: \(error.message)")
            return 1
        } catch {
            CLI.printError("superbot-cli: \(error)")
            return 1
        }
    }

    mutating func connect() throws -> RPCClient {
        if let client { return client }
        let c = try RPCClient(socketPath: options.socket, timeout: options.timeout)
        if let token = options.token, !token.isEmpty { _ = try c.call("auth.login", ["token": .string(token)]) }
        client = c
        return c
    }

    mutating func call(_ method: String, _ params: JSON? = nil) throws -> JSON {
        try connect().call(method, params)
    }

    // MARK: Commands

    mutating func status(_ names: [String]) throws -> Int32 {
        let result = try call("module.list")
        var modules = result["modules"]?.arrayValue ?? []
        if !names.isEmpty {
            let known = Set(modules.compactMap { $0["name"]?.stringValue })
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw RPCError.notFound("no module named '\(unknown)'")
            }
            modules = modules.filter { names.contains($0["name"]?.stringValue ?? "") }
        }
        if options.json {
            print(JSON.array(modules).serialized())
        } else {
            print(Table.modules(modules))
        }
        return 0
    }

    mutating func control(_ verb: String, _ names: [String]) throws -> Int32 {
        let params: JSON = names == ["all"] ? ["name": "all"] : ["names": .array(names.map { .string($0) })]
        do {
            let result = try call("module.\(verb)", params)
            if options.json {
                print(result.serialized())
            } else {
                for module in result["modules"]?.arrayValue ?? [] {
                    print("\(module["name"]?.stringValue ?? "?"): \(module["state"]?.stringValue ?? "?")")
                }
            }
            return 0
        } catch let error as RPCError {
            if !options.json, let modules = error.data?["modules"]?.arrayValue {
                for module in modules {
                    let reason = module["reason"]?.stringValue.map { " (\($0))" } ?? ""
                    print("\(module["name"]?.stringValue ?? "?"): \(module["state"]?.stringValue ?? "?")\(reason)")
                }
            }
            throw error
        }
    }

    mutating func moduleStatus(_ name: String) throws -> Int32 {
        let result = try call("module.status", ["name": .string(name)])
        if options.json {
            print(result.serialized())
        } else {
            print(Table.keyValues(result))
        }
        return 0
    }

    mutating func daemon(_ action: String) throws -> Int32 {
        switch action {
        case "status":
            let result = try call("daemon.status")
            print(options.json ? result.serialized() : Table.keyValues(result))
        case "reload":
            let result = try call("daemon.reload_config")
            if options.json {
                print(result.serialized())
            } else {
                for key in ["changed", "added", "removed"] {
                    let names = result[key]?.arrayValue?.compactMap(\.stringValue) ?? []
                    print("\(key): \(names.isEmpty ? "-" : names.joined(separator: ", "))")
                }
            }
        case "stop":
            let c = try connect()
            let result = try c.call("daemon.stop")
            // The daemon closes every connection once its modules are down: wait for that.
            while (try? c.readLine()) != nil {}
            print(options.json ? result.serialized() : "daemon stopped")
        default:
            throw UsageError(message: "usage: daemon status|stop|reload")
        }
        return 0
    }

    mutating func logs(_ arguments: [String]) throws -> Int32 {
        var name: String?
        var symbol: String?
        var lines = 10
        var follow = false
        var rest = arguments[...]
        while let arg = rest.popFirst() {
            switch arg {
            case "-f", "--follow": follow = true
            case "--symbol":
                guard let v = rest.popFirst(), !v.hasPrefix("-") else {
                    throw UsageError(message: "--symbol needs a symbol like BTCUSDT")
                }
                symbol = v
            case "-n", "--lines":
                guard let v = rest.popFirst(), let n = Int(v), n >= 0 else {
                    throw UsageError(message: "-n needs a number of lines")
                }
                lines = n
            default:
                guard name == nil, !arg.hasPrefix("-") else { throw UsageError(message: "unexpected '\(arg)'") }
                name = arg
            }
        }
        guard (name == nil) != (symbol == nil) else {
            throw UsageError(message: "logs needs a module name (or daemon), or --symbol SYMBOL")
        }
        let c = try connect()
        var params: [String: JSON] = ["lines": JSON(lines), "follow": .bool(follow)]
        if let name { params["name"] = .string(name) }
        if let symbol { params["symbol"] = .string(symbol) }
        let result = try c.call("logs.stream", .object(params))
        for line in result["lines"]?.arrayValue ?? [] { emit(line.stringValue ?? "") }
        guard follow else { return 0 }
        Socket.setReceiveTimeout(c.fd, seconds: 0)
        while true {
            let message = try c.readMessage()
            if message["method"]?.stringValue == "logs.line", let line = message["params"]?["line"]?.stringValue {
                emit(line)
            }
        }
    }

    mutating func engines(_ arguments: [String]) throws -> Int32 {
        if let verb = arguments.first, ["start", "stop", "restart"].contains(verb) {
            guard arguments.count == 2 else { throw UsageError(message: "usage: engines \(verb) SYMBOL") }
            let result = try call("engines.\(verb)", ["symbol": .string(arguments[1])])
            if options.json {
                print(result.serialized())
            } else {
                print(
                    "\(arguments[1]): \(result["status"]?.stringValue ?? "?")"
                        + (result["reason"]?.stringValue.map { " (\($0))" } ?? ""))
            }
            return 0
        }
        guard arguments.count <= 1 else {
            throw UsageError(message: "usage: engines [SYMBOL] | engines start|stop|restart SYMBOL")
        }
        if let symbol = arguments.first {
            let result = try call("engines.status", ["symbol": .string(symbol)])
            print(options.json ? result.serialized() : Table.keyValues(result))
            return 0
        }
        let result = try call("engines.status")
        let list = result["engines"]?.arrayValue ?? []
        print(options.json ? JSON.array(list).serialized() : Table.engines(list))
        return 0
    }

    mutating func trading(_ what: String) throws -> Int32 {
        let result = try call("trading.\(what)")
        if options.json {
            print(result.serialized())
            return 0
        }
        switch what {
        case "positions": print(Table.positions(result["positions"]?.arrayValue ?? []))
        case "orders":
            print(Table.orders(result["recent"]?.arrayValue ?? []))
            for p in result["pending"]?.arrayValue ?? [] {
                print("pending: \(p["symbol"]?.stringValue ?? "?") \(p["client_order_id"]?.stringValue ?? "?")")
            }
        default:
            var summary = result.objectValue ?? [:]
            let exchange = summary.removeValue(forKey: "exchange")
            let connector = summary.removeValue(forKey: "connector")
            print(Table.keyValues(.object(summary)))
            if let connector { print("\nconnector\n" + Table.keyValues(connector)) }
            if let exchange { print("\nexchange account\n" + Table.keyValues(exchange)) }
        }
        return 0
    }

    private func emit(_ line: String) {
        try? FileSystem.writeAll(1, Array((line + "\n").utf8))
    }

    mutating func publish(_ topic: String, _ dataText: String?) throws -> Int32 {
        var data = JSON.null
        if let dataText {
            do {
                data = try JSON.parse(dataText)
            } catch {
                throw UsageError(message: "data is not valid JSON: \(error) (quote strings: '\"text\"')")
            }
        }
        let result = try call("bus.publish", ["topic": .string(topic), "data": data])
        print(options.json ? result.serialized() : "delivered to \(result["delivered"]?.intValue ?? 0) subscriber(s)")
        return 0
    }

    /// Prints each message as one JSON line (topic, data, source, seq, ts) until interrupted.
    mutating func subscribe(_ patterns: [String]) throws -> Int32 {
        let c = try connect()
        _ = try c.call("bus.subscribe", ["patterns": .array(patterns.map { .string($0) })])
        Socket.setReceiveTimeout(c.fd, seconds: 0)
        while true {
            let message = try c.readMessage()
            switch message["method"]?.stringValue {
            case "bus.message": emit((message["params"] ?? .null).serialized())
            case "bus.dropped":
                CLI.printError(
                    "superbot-cli: the daemon dropped \(message["params"]?["dropped"]?.intValue ?? 0) message(s): this terminal is not keeping up"
                )
            default: break
            }
        }
    }

    mutating func rpc(_ method: String, _ paramsText: String?) throws -> Int32 {
        var params: JSON?
        if let paramsText {
            do {
                params = try JSON.parse(paramsText)
            } catch {
                throw UsageError(message: "params are not valid JSON: \(error)")
            }
        }
        print(try call(method, params).serialized())
        return 0
    }

    static func printError(_ text: String) {
        try? FileSystem.writeAll(2, Array((text + "\n").utf8))
    }
}
