import SystemKit
import YAML

/// Reads one YAML mapping against a fixed set of keys, turning every mistake into a `ConfigError`.
public struct MappingReader {
    public let node: YAMLNode
    public let file: String
    public let path: String

    public init(_ node: YAMLNode, file: String, path: String, allowed: [String]) throws {
        guard let pairs = node.mapping else {
            if node.scalar == .null {
                self.node = YAMLNode(.mapping([]), line: node.line, column: node.column)
                self.file = file
                self.path = path
                return
            }
            throw ConfigError(file, node, "'\(path)' must be a mapping of keys to values")
        }
        for pair in pairs {
            guard let key = pair.key.scalarText else { throw ConfigError(file, pair.key, "keys must be plain strings") }
            if !allowed.contains(key) {
                let hint =
                    suggestion(for: key, in: allowed).map { "; did you mean '\($0)'?" }
                    ?? "; allowed: \(allowed.joined(separator: ", "))"
                throw ConfigError(file, pair.key, "unknown key '\(key)' in '\(path)'\(hint)")
            }
        }
        self.node = node
        self.file = file
        self.path = path
    }

    public func has(_ key: String) -> Bool { node[key].map { $0.scalar != .null } ?? false }

    public func value(_ key: String) -> YAMLNode? {
        guard let v = node[key], v.scalar != .null else { return nil }
        return v
    }

    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file, node[key] ?? node, "'\(path).\(key)' \(message)")
    }

    public func string(_ key: String, default fallback: String) throws -> String {
        try optionalString(key) ?? fallback
    }

    public func optionalString(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        switch v.scalar {
        case .string(let s): return s
        case .int(let n): return String(n)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: throw error(key, "must be a string")
        }
    }

    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let v = value(key) else { return fallback }
        guard case .bool(let b) = v.scalar else { throw error(key, "must be true or false") }
        return b
    }

    public func int(_ key: String, default fallback: Int, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        try optionalInt(key, range: range) ?? fallback
    }

    public func optionalInt(_ key: String, range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard case .int(let n) = v.scalar else { throw error(key, "must be a whole number") }
        guard range.contains(n) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(n)")
        }
        return n
    }

    /// Seconds, as an integer or decimal number.
    public func seconds(_ key: String, default fallback: Double, minimum: Double = 0) throws -> Double {
        try number(key, default: fallback, minimum: minimum, unit: "a number of seconds")
    }

    /// An integer or decimal number (amounts, rates, prices).
    public func number(_ key: String, default fallback: Double, minimum: Double = 0, unit: String = "a number") throws
        -> Double
    {
        guard let v = value(key) else { return fallback }
        let d: Double
        switch v.scalar {
        case .int(let n): d = Double(n)
        case .double(let x): d = x
        default: throw error(key, "must be \(unit)")
        }
        guard d.isFinite, d >= minimum else { throw error(key, "must be a finite number ≥ \(minimum), got \(d)") }
        return d
    }

    public func stringList(_ key: String) throws -> [String] {
        guard let v = value(key) else { return [] }
        guard let items = v.sequence else { throw error(key, "must be a list, e.g. [a, b]") }
        return try items.map { item in
            switch item.scalar {
            case .string(let s): return s
            case .int(let n): return String(n)
            case .double(let d): return String(d)
            case .bool(let b): return String(b)
            default: throw ConfigError(file, item, "'\(path).\(key)' entries must be strings")
            }
        }
    }

    public func stringMap(_ key: String) throws -> [String: String] {
        guard let v = value(key) else { return [:] }
        guard let pairs = v.mapping else { throw error(key, "must be a mapping of names to values") }
        var out: [String: String] = [:]
        for pair in pairs {
            guard let name = pair.key.scalarText else { throw ConfigError(file, pair.key, "keys must be strings") }
            switch pair.value.scalar {
            case .string(let s): out[name] = s
            case .int(let n): out[name] = String(n)
            case .double(let d): out[name] = String(d)
            case .bool(let b): out[name] = String(b)
            case .null: out[name] = ""
            default: throw ConfigError(file, pair.value, "'\(path).\(key).\(name)' must be a scalar")
            }
        }
        return out
    }

    public func child(_ key: String, allowed: [String]) throws -> MappingReader {
        let childNode = node[key] ?? YAMLNode(.mapping([]), line: node.line, column: node.column)
        return try MappingReader(childNode, file: file, path: "\(path).\(key)", allowed: allowed)
    }

    public func oneOf(_ key: String, _ choices: [String], default fallback: String) throws -> String {
        let s = try string(key, default: fallback)
        guard choices.contains(s) else {
            let hint = suggestion(for: s, in: choices).map { " (did you mean '\($0)'?)" } ?? ""
            throw error(key, "must be one of \(choices.joined(separator: ", ")), got '\(s)'\(hint)")
        }
        return s
    }
}
