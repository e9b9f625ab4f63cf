import Glibc
import JSON
import YAML

/// Helpers shared by every config file: reading, YAML → JSON for dotted access.
public enum ConfigDocument {
    static func read(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else { throw ReadError(reason: String(cString: strerror(errno))) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ReadError(reason: "the file is not valid UTF-8") }
        return text
    }

    struct ReadError: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func json(_ node: YAMLNode) -> JSON {
        switch node.kind {
        case .scalar:
            switch node.scalar! {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .int(let n): return .number(Double(n))
            case .double(let d): return .number(d)
            case .string(let s): return .string(s)
            }
        case .sequence(let items): return .array(items.map(json))
        case .mapping(let pairs):
            return .object(Dictionary(pairs.map { ($0.key.scalarText ?? "", json($0.value)) }, uniquingKeysWith: { a, _ in a }))
        }
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
