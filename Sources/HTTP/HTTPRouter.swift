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

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route {
        let method: String
        let segments: [Segment]
        let handler: Handler
    }

    private var routes: [Route] = []

    public init() {}

    /// Registers `pattern` for `method`; a pattern must start with `/`, and a parameter fills a
    /// whole segment. Registering the same method and pattern twice is a programming error.
    public mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        precondition(pattern.hasPrefix("/"), "route pattern '\(pattern)' must start with '/'")
        let segments = Self.split(pattern).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        precondition(
            !routes.contains { $0.method == method && $0.segments == segments },
            "route \(method) \(pattern) registered twice")
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: Handler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: Handler) { add("POST", pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: Handler) { add("DELETE", pattern, handler) }

    /// Every pattern, for an index page or a did-you-mean.
    public var patterns: [String] {
        routes.map { route in
            "/"
                + route.segments.map { segment in
                    switch segment {
                    case .literal(let text): text
                    case .parameter(let name): "{\(name)}"
                    }
                }.joined(separator: "/")
        }
    }

    /// `path` without its query; parameters come back percent-decoded. HEAD finds GET routes.
    public func match(method: String, path: String) -> Match {
        let parts = Self.split(path)
        var best: (route: Route, parameters: [String: String], score: Int)?
        var allowed: [String] = []
        for route in routes where route.segments.count == parts.count {
            var parameters: [String: String] = [:]
            var score = 0
            var matches = true
            for (segment, part) in zip(route.segments, parts) {
                switch segment {
                case .literal(let text):
                    if text != part { matches = false }
                    score = score * 2 + 1
                case .parameter(let name):
                    parameters[name] = HTTPQuery.decode(part)
                    score *= 2
                }
                if !matches { break }
            }
            guard matches else { continue }
            guard route.method == method || (method == "HEAD" && route.method == "GET") else {
                if !allowed.contains(route.method) { allowed.append(route.method) }
                continue
            }
            if best == nil || score > best!.score { best = (route, parameters, score) }
        }
        if let best { return .found(best.route.handler, parameters: best.parameters) }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    private static func split(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
