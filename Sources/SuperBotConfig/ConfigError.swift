import YAML

/// A configuration problem an operator can fix: where it is (file:line:column) and what to do.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public init(_ file: String, _ node: YAMLNode, _ message: String) {
        self.init(file: file, line: node.line, column: node.column, message: message)
    }

    /// `file:line:column: message`, or `file: message` for what concerns the whole file.
    public var description: String { line == 0 ? "\(file): \(message)" : "\(file):\(line):\(column): \(message)" }
}
