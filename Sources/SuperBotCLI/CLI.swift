import Glibc
import JSON
import RPC
import SystemKit

/// `superbot-cli`: small verbs over the daemon's socket, shaped like s6-svc/supervisorctl.
/// Each verb is a `CLICommand`; exit codes are `ExitCode`.
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
          trading reconcile [SYMBOL] [--adopt]
                                        the books against the exchange (position and trades), checked
                                        now; --adopt books the exchange's view once
          schedule                      scheduled jobs: next fire times (UTC and local), last run; trading hours
          schedule run NAME             run a job now
          schedule next EXPR [--tz ZONE] [--after ISO8601] [-n N] [--last]
                                        next fire times of a cron expression or HH:MM (no daemon needed);
                                        --last prints only the Nth
          backtest run [OPTIONS]        run the backtest module with these backtest options, follow its progress
          backtest list | show ID       reports written so far (reports/, --report-dir DIR)
          cache get KEY | set KEY JSON [--ttl S] | delete KEY... | stats
                                        the cache modules share through the daemon (exit 1 on a miss)
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

    public static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
            return v
        }
        while let arg = rest.popFirst() {
            switch arg {
            case "--json": options.json = true
            case "--socket", "-s": options.socket = try value(arg)
            case "--token": options.token = try value(arg)
            case "--timeout":
                guard let t = Double(try value(arg)), t > 0 else {
                    throw UsageError("--timeout needs a positive number of seconds")
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

    /// Every command, by the verbs that select it.
    static var commands: [any CLICommand.Type] {
        [
            StatusCommand.self, ControlCommand.self, ModuleCommand.self, DaemonCommand.self, LogsCommand.self,
            EnginesCommand.self, TradingCommand.self, ScheduleCommand.self, BusCommand.self, RPCCommand.self,
            BacktestCommand.self, CacheCommand.self,
        ]
    }

    public static func main(_ arguments: [String]) -> Int32 { run(arguments).rawValue }

    static func run(_ arguments: [String]) -> ExitCode {
        let options: Options
        let command: any CLICommand
        do {
            options = try parse(arguments)
            guard let verb = options.command.first, verb != "help" else {
                print(usage)
                return options.command.isEmpty ? .usage : .ok
            }
            guard let type = commands.first(where: { $0.verbs.contains(verb) }) else {
                throw UsageError("unknown command '\(verb)'")
            }
            command = try type.init(verb: verb, arguments: Array(options.command.dropFirst()))
            try command.validate()
        } catch let error as UsageError {
            CLISession.printError("superbot-cli: \(error.message)\n\n\(usage)")
            return .usage
        } catch {
            return .usage
        }
        let session = CLISession(options: options)
        do {
            return try command.run(session)
        } catch let error as RPCClient.ClientError {
            CLISession.printError("superbot-cli: \(error)")
            if case .notRunning = error { return .notRunning }
            return .failed
        } catch let error as RPCError {
            if options.json, let data = error.data { print(data.serialized()) }
            CLISession.printError("superbot-cli: \(error.message)")
            return .failed
        } catch {
            CLISession.printError("superbot-cli: \(error)")
            return .failed
        }
    }
}
