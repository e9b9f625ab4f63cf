import JSON
import SystemKit
import YAML

/// Helpers shared by every config file: YAML → JSON for dotted access.
public enum ConfigDocument {
    public static func json(_ node: YAMLNode) -> JSON {
        switch node.kind {
        case .scalar:
            switch node.scalar! {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .int(let n): return .integer(Int64(n))
            case .double(let d): return .number(d)
            case .string(let s): return .string(s)
            }
        case .sequence(let items): return .array(items.map(json))
        case .mapping(let pairs):
            return .object(
                Dictionary(pairs.map { ($0.key.scalarText ?? "", json($0.value)) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// Reads and parses a config file: `path` is the file or its directory (then `defaultName`).
    public static func load(_ path: String, defaultName: String) throws -> (file: String, root: YAMLNode) {
        let file = path.hasSuffix(".yaml") || path.hasSuffix(".yml") ? path : path + "/" + defaultName
        var bytes: [UInt8]
        guard FileSystem.exists(file) else {
            throw ConfigError(
                file: file, line: 0, column: 0,
                message: "not found; create it, or point --config at the directory that holds \(defaultName)")
        }
        do {
            bytes = try FileSystem.readFile(file)
        } catch {
            throw ConfigError(file: file, line: 0, column: 0, message: "cannot read the config file: \(error)")
        }
        // A UTF-8 byte order mark, as some editors write, is not part of the YAML.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: file, line: 0, column: 0, message: "the file is not valid UTF-8")
        }
        return (file, try parse(text, file: file))
    }

    public static func parse(_ text: String, file: String) throws -> YAMLNode {
        do {
            return try YAMLParser.parse(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        } catch let e as YAMLError {
            throw ConfigError(file: file, line: e.line, column: e.column, message: e.message)
        }
    }

    /// The directory config paths are resolved against: the parent of the config directory.
    public static func baseDirectory(of file: String) -> String {
        FileSystem.directoryName(FileSystem.directoryName(file))
    }

    public static func lookup(_ root: JSON, _ path: String) -> JSON? {
        var current: JSON? = root
        for segment in path.split(separator: ".") {
            if let index = Int(segment), let array = current?.arrayValue {
                current = index < array.count ? array[index] : nil
            } else {
                current = current?[String(segment)]
            }
            if current == nil { return nil }
        }
        return current
    }
}
