/// Command line of `superbot`.
public struct DaemonOptions: Equatable, Sendable {
    public var configPath = "config"
    public var checkOnly = false
    public var help = false
    public var version = false

    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
    }

    public static let usage = """
        usage: superbot [--config DIR|FILE] [--check-config]

          --config PATH    config directory holding daemon.yaml, or the file itself (default: config)
          --check-config   validate the configuration and exit: 0 valid, 2 invalid
          --version        print the version
          -h, --help       show this help

        Runs in the foreground; stop it with SIGTERM, Ctrl-C or `superbot-cli daemon stop`.
        Exit codes: 0 stopped cleanly, 1 runtime error, 2 bad configuration or usage,
        4 another daemon already runs on this run directory.
        """

    public static func parse(_ arguments: [String]) throws -> DaemonOptions {
        var options = DaemonOptions()
        var rest = arguments[...]
        while let arg = rest.popFirst() {
            switch arg {
            case "--config", "-c":
                guard let value = rest.popFirst() else { throw UsageError(description: "--config needs a path") }
                options.configPath = value
            case "--check-config": options.checkOnly = true
            case "--version": options.version = true
            case "-h", "--help": options.help = true
            default:
                if arg.hasPrefix("--config=") {
                    options.configPath = String(arg.dropFirst(9))
                } else {
                    throw UsageError(description: "unknown option '\(arg)'")
                }
            }
        }
        return options
    }
}
