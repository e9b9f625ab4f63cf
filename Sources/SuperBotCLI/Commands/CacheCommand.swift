import JSON

/// `cache get KEY`, `cache set KEY JSON [--ttl S]`, `cache delete KEY...`, `cache stats`: the
/// cache modules share through the daemon.
struct CacheCommand: CLICommand {
    static let verbs = ["cache"]
    static let usage = "usage: cache get KEY | cache set KEY JSON [--ttl SECONDS] | cache delete KEY... | cache stats"

    enum Action: Equatable {
        case get(String)
        case set(key: String, value: JSON, ttl: Double?)
        case delete([String])
        case stats
    }

    let action: Action

    init(verb: String, arguments: [String]) throws(UsageError) {
        var args = arguments
        var ttl: Double?
        if let i = args.firstIndex(of: "--ttl") {
            guard i + 1 < args.count, let t = Double(args[i + 1]), t > 0 else {
                throw UsageError("--ttl needs a positive number of seconds")
            }
            ttl = t
            args.removeSubrange(i...(i + 1))
        }
        switch (args.first, args.count) {
        case ("get", 2): action = .get(args[1])
        case ("set", 3):
            do {
                action = .set(key: args[1], value: try JSON.parse(args[2]), ttl: ttl)
            } catch {
                throw UsageError("the value is not valid JSON: \(error) (quote strings: '\"text\"')")
            }
        case ("delete", let n) where n >= 2: action = .delete(Array(args.dropFirst()))
        case ("stats", 1): action = .stats
        default: throw UsageError(CacheCommand.usage)
        }
    }

    func run(_ session: CLISession) throws -> ExitCode {
        switch action {
        case .get(let key):
            let result = try session.call("cache.get", ["key": .string(key)])
            let hit = result["hit"]?.boolValue == true
            session.show(result) { r in
                hit
                    ? "\(r["value"]?.serialized() ?? "null")  (ttl \(Table.fixed(r["ttl"]?.doubleValue ?? 0)) s)"
                    : "(miss)"
            }
            return hit ? .ok : .failed
        case .set(let key, let value, let ttl):
            var params: [String: JSON] = ["key": .string(key), "value": value]
            if let ttl { params["ttl"] = JSON(ttl) }
            let result = try session.call("cache.set", .object(params))
            session.show(result) { "stored \(key) for \(Table.fixed($0["ttl"]?.doubleValue ?? 0)) s" }
        case .delete(let keys):
            let result = try session.call("cache.delete", ["keys": .array(keys.map { .string($0) })])
            session.show(result) { "deleted \($0["deleted"]?.intValue ?? 0)" }
        case .stats:
            let result = try session.call("cache.stats")
            session.show(result) { s in
                let rows = [
                    "backend", "entries", "bytes", "max_entries", "max_bytes", "hits", "misses", "hit_rate",
                    "evictions",
                    "expirations", "sets", "deletes", "default_ttl",
                ].map { [$0, s[$0]?.serialized() ?? "-"] }
                return Table.render(rows)
            }
        }
        return .ok
    }
}
