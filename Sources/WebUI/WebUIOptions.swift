import SystemKit

/// `webui`'s command line. The token comes from the environment, never from argv (which `ps`
/// shows): `$SUPERBOT_WEBUI_TOKEN`, else the daemon's `$SUPERBOT_TOKEN`.
public struct WebUIOptions: Sendable {
    public static let usage = """
        usage: webui [--host 127.0.0.1] [--port 8080] [--refresh SECONDS] [--heartbeat SECONDS]
                     [--events N] [--max-log-streams N] [--reports DIR]
        The dashboard and HTTP API of SuperBot, a client of the daemon's socket ($SUPERBOT_SOCKET).
        --refresh: how often the state is re-read from the daemon (default 1 s; events apply at once).
        --heartbeat: seconds between SSE comments on idle streams (default 15).
        --events: bus events kept for Last-Event-ID resumes (default 2000).
        --reports: where the backtest module writes its reports (default reports).
        A bearer token is required when $SUPERBOT_WEBUI_TOKEN or $SUPERBOT_TOKEN is set.
        """

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public var host = "127.0.0.1"
    public var port: UInt16 = 8080
    public var refresh = 1.0
    public var heartbeat = 15.0
    public var events = 2000
    public var maxLogStreams = 32
    public var reportDirectory = "reports"
    public var token: String?

    public init() {}

    /// `nil` for `--help`.
    public static func parse(_ arguments: [String], environment: (String) -> String? = Environment.get) throws
        -> WebUIOptions?
    {
        var o = WebUIOptions()
        o.token = environment("SUPERBOT_WEBUI_TOKEN") ?? environment("SUPERBOT_TOKEN")
        if o.token?.isEmpty == true { o.token = nil }
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            if flag == "-h" || flag == "--help" { return nil }
            guard let value = rest.popFirst() else { throw Invalid("\(flag) needs a value\n\(usage)") }
            func number(_ range: ClosedRange<Double>) throws -> Double {
                guard let v = Double(value), range.contains(v) else {
                    throw Invalid(
                        "\(flag) needs a number from \(range.lowerBound) to \(range.upperBound), got '\(value)'")
                }
                return v
            }
            switch flag {
            case "--host": o.host = value
            case "--port": o.port = UInt16(try number(0...65535))
            case "--refresh": o.refresh = try number(0.05...3600)
            case "--heartbeat": o.heartbeat = try number(0.1...3600)
            case "--events": o.events = Int(try number(1...1_000_000))
            case "--max-log-streams": o.maxLogStreams = Int(try number(1...1000))
            case "--reports": o.reportDirectory = value
            default: throw Invalid("unknown option '\(flag)'\n\(usage)")
            }
        }
        return o
    }
}
