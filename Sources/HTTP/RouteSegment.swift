/// One segment of a route pattern, and the matching itself (not generic, so it is compiled once).
enum RouteSegment: Equatable, Sendable {
    case literal(String)
    case parameter(String)

    enum Found {
        case found(Int, [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    static func parse(_ pattern: String) -> [RouteSegment] {
        split(pattern).map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
    }

    static func pattern(_ segments: [RouteSegment]) -> String {
        "/"
            + segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter(let name): "{\(name)}"
                }
            }.joined(separator: "/")
    }

    /// The best route: every literal matches, and literals outrank parameters from the left.
    static func match(method: String, path: String, methods: [String], patterns: [[RouteSegment]]) -> Found {
        let parts = split(path)
        var best: (index: Int, score: Int)?
        var allowed: [String] = []
        for index in patterns.indices where patterns[index].count == parts.count {
            let segments = patterns[index]
            var score = 0
            var matches = true
            for i in segments.indices {
                switch segments[i] {
                case .literal(let text):
                    matches = text.utf8.elementsEqual(parts[i].utf8)
                    score = score * 2 + 1
                case .parameter:
                    score *= 2
                }
                if !matches { break }
            }
            guard matches else { continue }
            guard methods[index] == method || (method == "HEAD" && methods[index] == "GET") else {
                if !allowed.contains(methods[index]) { allowed.append(methods[index]) }
                continue
            }
            if best == nil || score > best!.score { best = (index, score) }
        }
        guard let best else { return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed) }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(patterns[best.index], parts) {
            if case .parameter(let name) = segment { parameters[name] = HTTPQuery.decode(part) }
        }
        return .found(best.index, parameters)
    }

    /// Segments between slashes, found on the UTF-8 bytes (this runs on every request).
    private static func split(_ path: String) -> [Substring] {
        var parts: [Substring] = []
        let bytes = path.utf8
        var start = bytes.startIndex
        var i = start
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "/") {
                if i > start { parts.append(path[start..<i]) }
                start = bytes.index(after: i)
            }
            i = bytes.index(after: i)
        }
        if start < bytes.endIndex { parts.append(path[start...]) }
        return parts
    }
}
