/// A JSON value. SuperBot's wire format (JSON-RPC, JSON Lines logs) is built on this instead of
/// Foundation, so the daemon and CLI start fast and stay small.
///
/// Integers have a case of their own, so ids, counts and sequence numbers stay exact past 2^53
/// and are written without a fraction; `integer(1)` and `number(1.0)` still compare equal.
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var doubleValue: Double? {
        switch self {
        case .number(let n): n
        case .integer(let i): Double(i)
        default: nil
        }
    }
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
    public var objectValue: [String: JSON]? {
        if case .object(let o) = self { return o }
        return nil
    }
    public var isNull: Bool { self == .null }

    /// The value as an exact integer, or `nil` for fractions, out-of-range numbers and non-numbers.
    public var intValue: Int? { int64Value.flatMap { Int(exactly: $0) } }

    public var int64Value: Int64? {
        switch self {
        case .integer(let i): i
        case .number(let n) where n.rounded() == n && abs(n) < 9.007e15: Int64(n)
        default: nil
        }
    }
}

extension JSON: Equatable {
    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.integer(let i), .number(let d)), (.number(let d), .integer(let i)): Int64(exactly: d) == i
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        default: false
        }
    }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .integer(Int64(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSON {
    public init(_ value: Int) { self = .integer(Int64(value)) }
    public init(_ value: Int32) { self = .integer(Int64(value)) }
    public init(_ value: Int64) { self = .integer(value) }
    public init(_ value: UInt64) { self = Int64(exactly: value).map { .integer($0) } ?? .number(Double(value)) }
    public init(_ value: Double) { self = .number(value) }
    public init(_ value: String?) { self = value.map { .string($0) } ?? .null }
}
