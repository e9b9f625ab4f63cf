/// One verb of `superbot-cli`, shaped like swift-argument-parser's commands without the package:
/// the arguments are parsed in `init` and checked in `validate()` before anything reaches the
/// daemon; `run` does the work through the session.
protocol CLICommand {
    /// The words that select this command (`start`, `stop`, `restart`).
    static var verbs: [String] { get }
    init(verb: String, arguments: [String]) throws(UsageError)
    func validate() throws(UsageError)
    func run(_ session: CLISession) throws -> ExitCode
}

extension CLICommand {
    func validate() throws(UsageError) {}
}

/// A command line that cannot be run; the CLI prints it with the usage and exits 2.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
