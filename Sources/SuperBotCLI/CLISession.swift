import Glibc
import JSON
import RPC
import SystemKit

/// What every command shares: the options, one connection to the daemon (opened on first use,
/// logged in when there is a token), and output.
final class CLISession {
    let options: CLI.Options
    private var client: RPCClient?

    init(options: CLI.Options) { self.options = options }

    var json: Bool { options.json }

    func connect() throws -> RPCClient {
        if let client { return client }
        let c = try RPCClient(socketPath: options.socket, timeout: options.timeout)
        if let token = options.token, !token.isEmpty { _ = try c.call("auth.login", ["token": .string(token)]) }
        client = c
        return c
    }

    func call(_ method: String, _ params: JSON? = nil) throws -> JSON {
        try connect().call(method, params)
    }

    /// One line to standard output, written at once (for streams that are piped).
    func emit(_ line: String) {
        try? FileSystem.writeAll(1, Array((line + "\n").utf8))
    }

    /// The result as JSON with `--json`, else as `text` renders it.
    func show(_ result: JSON, _ text: (JSON) -> String) {
        print(json ? result.serialized() : text(result))
    }

    static func printError(_ text: String) {
        try? FileSystem.writeAll(2, Array((text + "\n").utf8))
    }
}
