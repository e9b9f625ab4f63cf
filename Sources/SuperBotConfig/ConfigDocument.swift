import JSON
import YAML

/// Helpers shared by every config file: YAML → JSON for dotted access.
public enum ConfigDocument {
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
