import JSON
import SystemKit

public enum LogLevel: Int, Comparable, Sendable {
    case debug, info, warning, error

    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error": self = .error
        default: return nil
        }
    }

    public var name: String { ["debug", "info", "warning", "error"][rawValue] }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One structured log line: `ts`, `level`, `logger`, `msg`, plus fields.
public struct LogRecord: Sendable {
    public var time: Double
    public var level: LogLevel
    public var logger: String
    public var message: String
    public var fields: [String: JSON]

    public var json: JSON {
        var o = fields
        o["ts"] = .string(Clock.iso8601(time))
        o["level"] = .string(level.name)
        o["logger"] = .string(logger)
        o["msg"] = .string(message)
        return .object(o)
    }

    /// The compact terminal form: `19:05:47.123 INFO  daemon  started module  name=webui pid=42`.
    public var compact: String {
        let ts = Clock.iso8601(time)
        let clock = ts.dropFirst(11).dropLast()
        let level = self.level.name.uppercased()
        var line = "\(clock) \(level)\(String(repeating: " ", count: max(1, 8 - level.count)))\(logger)  \(message)"
        for key in fields.keys.sorted() {
            let value = fields[key]!
            line += "  \(key)=" + (value.stringValue ?? value.serialized())
        }
        return line
    }
}

public protocol LogSink: AnyObject, Sendable {
    func write(_ record: LogRecord)
}

/// A value-type logger; messages are autoclosures, so filtered lines cost nothing.
public struct Logger: Sendable {
    public let label: String
    public var level: LogLevel
    let sinks: [LogSink]

    public init(label: String, level: LogLevel = .info, sinks: [LogSink]) {
        self.label = label
        self.level = level
        self.sinks = sinks
    }

    public func log(
        _ level: LogLevel, _ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: JSON] = [:]
    ) {
        guard level >= self.level else { return }
        let record = LogRecord(time: Clock.wall(), level: level, logger: label, message: message(), fields: fields())
        for sink in sinks { sink.write(record) }
    }

    public func debug(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: JSON] = [:]) {
        log(.debug, message(), fields())
    }
    public func info(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: JSON] = [:]) {
        log(.info, message(), fields())
    }
    public func warning(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: JSON] = [:]) {
        log(.warning, message(), fields())
    }
    public func error(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [String: JSON] = [:]) {
        log(.error, message(), fields())
    }
}
