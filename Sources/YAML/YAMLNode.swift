/// A parsed YAML node with its source position, so config errors can point at file:line:column.
public struct YAMLNode: Equatable, Sendable {
    public struct Pair: Equatable, Sendable {
        public var key: YAMLNode
        public var value: YAMLNode
    }

    public enum Kind: Equatable, Sendable {
        /// `quoted` scalars are always strings; plain ones resolve to YAML 1.2 core types.
        case scalar(String, quoted: Bool)
        case mapping([Pair])
        case sequence([YAMLNode])
    }

    public var kind: Kind
    public var line: Int
    public var column: Int

    public init(_ kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// A scalar resolved with the YAML 1.2 core schema.
    public enum Scalar: Equatable, Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
    }

    public var scalar: Scalar? {
        guard case .scalar(let text, let quoted) = kind else { return nil }
        return quoted ? .string(text) : YAMLNode.resolve(text)
    }

    public var mapping: [Pair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    /// The mapping value for `key`, if this node is a mapping that has it.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key.scalarText == key }?.value
    }

    public var scalarText: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    public static func resolve(_ text: String) -> Scalar {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        if text.hasPrefix("0x"), let n = Int(text.dropFirst(2), radix: 16) { return .int(n) }
        if text.hasPrefix("0o"), let n = Int(text.dropFirst(2), radix: 8) { return .int(n) }
        if isDecimalInteger(text), let n = Int(text) { return .int(n) }
        if isFloat(text), let d = Double(text) { return .double(d) }
        return .string(text)
    }

    static func isDecimalInteger(_ text: String) -> Bool {
        var s = Substring(text)
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        return !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isFloat(_ text: String) -> Bool {
        var chars = Array(text.utf8)[...]
        func digits() -> Int {
            var n = 0
            while let c = chars.first, c >= 48 && c <= 57 {
                chars = chars.dropFirst()
                n += 1
            }
            return n
        }
        if chars.first == UInt8(ascii: "-") || chars.first == UInt8(ascii: "+") { chars = chars.dropFirst() }
        let whole = digits()
        var fraction = 0
        if chars.first == UInt8(ascii: ".") {
            chars = chars.dropFirst()
            fraction = digits()
        }
        if whole == 0 && fraction == 0 { return false }
        if chars.first == UInt8(ascii: "e") || chars.first == UInt8(ascii: "E") {
            chars = chars.dropFirst()
            if chars.first == UInt8(ascii: "-") || chars.first == UInt8(ascii: "+") { chars = chars.dropFirst() }
            if digits() == 0 { return false }
        }
        return chars.isEmpty
    }
}

/// A YAML syntax error or an unsupported construct, with a 1-based position.
public struct YAMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public var description: String { "\(line):\(column): \(message)" }
}
