/// Why an expression was refused: the field, the offending text and its 1-based column, so the
/// operator can point at it.
public struct CronError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `minute`, `hour`, `day-of-month`, `month`, `day-of-week`, or nil for the whole expression.
    public let field: String?
    public let value: String
    public let column: Int
    public let message: String

    public init(field: String?, value: String, column: Int, _ message: String) {
        self.field = field
        self.value = value
        self.column = column
        self.message = message
    }

    public var description: String {
        if let field { return "\(field) '\(value)' at column \(column): \(message)" }
        return "'\(value)' at column \(column): \(message)"
    }
}
