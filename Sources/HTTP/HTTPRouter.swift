/// Maps a method and a path to a handler. Patterns are literal segments and `{name}` parameters
/// (`/engines/status/{symbol}`); a literal segment wins over a parameter at the same place, so
/// `/modules/list` and `/modules/{name}` can live side by side. The handler type is the caller's:
/// the web UI routes to `HTTPServer.Handler`s, the simulator to its own synchronous closures.
public struct HTTPRouter<Handler> {
    public enum Match {
        case found(Handler, parameters: [String: String])
        /// The path exists with other methods (answer 405 with an `Allow` header).
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    // Patterns and methods are kept apart from the handlers, in types that do not depend on
    // `Handler`, so matching runs specialized code (no generic metadata look-ups per request).
    private var methods: [String] = []
    private var patternSegments: [[RouteSegment]] = []
    private var handlers: [Handler] = []

    public init() {}

    /// Registers `pattern` for `method`; a pattern must start with `/`, and a parameter fills a
    /// whole segment. Registering the same method and pattern twice is a programming error.
    public mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        precondition(pattern.hasPrefix("/"), "route pattern '\(pattern)' must start with '/'")
        let segments = RouteSegment.parse(pattern)
        precondition(
            !zip(methods, patternSegments).contains { $0 == method && $1 == segments },
            "route \(method) \(pattern) registered twice")
        methods.append(method)
        patternSegments.append(segments)
        handlers.append(handler)
    }

    public mutating func get(_ pattern: String, _ handler: Handler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: Handler) { add("POST", pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: Handler) { add("DELETE", pattern, handler) }

    /// Every pattern, for an index page or a did-you-mean.
    public var patterns: [String] { patternSegments.map(RouteSegment.pattern) }

    /// `path` without its query; parameters come back percent-decoded. HEAD finds GET routes.
    public func match(method: String, path: String) -> Match {
        switch RouteSegment.match(method: method, path: path, methods: methods, patterns: patternSegments) {
        case .found(let index, let parameters): .found(handlers[index], parameters: parameters)
        case .methodNotAllowed(let allowed): .methodNotAllowed(allowed: allowed)
        case .notFound: .notFound
        }
    }
}
