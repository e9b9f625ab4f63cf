/// Finds the members of a JSON object as byte ranges, validating the text without building
/// values. The bus relay uses it to read a publish's topic and forward its `data` verbatim —
/// no decode, no re-encode.
public enum JSONScanner {
    public struct Member: Sendable {
        public var key: String
        public var value: Range<Int>
    }

    /// The members of the object spanning `range` of `bytes`, or `nil` if it is not a valid object.
    public static func members(_ bytes: [UInt8], in range: Range<Int>? = nil, maxDepth: Int = 256) -> [Member]? {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        let r = range ?? 0..<bytes.count
        parser.index = r.lowerBound
        parser.skipWhitespace()
        guard parser.index < r.upperBound, bytes[parser.index] == UInt8(ascii: "{") else { return nil }
        parser.index += 1
        var out: [Member] = []
        parser.skipWhitespace()
        if parser.index < r.upperBound, bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
            return trailingOnlyWhitespace(&parser, r) ? out : nil
        }
        while true {
            parser.skipWhitespace()
            guard parser.index < r.upperBound, bytes[parser.index] == UInt8(ascii: "\""), let key = try? parser.parseString() else { return nil }
            parser.skipWhitespace()
            guard parser.index < r.upperBound, bytes[parser.index] == UInt8(ascii: ":") else { return nil }
            parser.index += 1
            parser.skipWhitespace()
            let start = parser.index
            guard (try? parser.skipValue(depth: 1)) != nil, parser.index <= r.upperBound else { return nil }
            out.append(Member(key: key, value: start..<parser.index))
            parser.skipWhitespace()
            guard parser.index < r.upperBound else { return nil }
            if bytes[parser.index] == UInt8(ascii: ",") { parser.index += 1; continue }
            if bytes[parser.index] == UInt8(ascii: "}") {
                parser.index += 1
                return trailingOnlyWhitespace(&parser, r) ? out : nil
            }
            return nil
        }
    }

    private static func trailingOnlyWhitespace(_ parser: inout JSONParser, _ r: Range<Int>) -> Bool {
        parser.skipWhitespace()
        return parser.index >= r.upperBound
    }

    /// The string at `range` (which must hold exactly one JSON string), decoded.
    public static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        var parser = JSONParser(bytes: bytes, maxDepth: 1)
        parser.index = range.lowerBound
        guard range.lowerBound < range.upperBound, bytes[range.lowerBound] == UInt8(ascii: "\""),
            let s = try? parser.parseString(), parser.index == range.upperBound
        else { return nil }
        return s
    }
}

extension JSONParser {
    /// Validates one value and moves past it without building it.
    mutating func skipValue(depth: Int) throws {
        guard index < bytes.count else { throw error("unexpected end of input") }
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth)") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                try skipString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                index += 1
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw error("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return }
                throw error("expected ',' or '}' in object")
            }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw error("unterminated array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return }
                throw error("expected ',' or ']' in array")
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try expect("true")
        case UInt8(ascii: "f"): try expect("false")
        case UInt8(ascii: "n"): try expect("null")
        default: _ = try parseNumber()
        }
    }

    /// Moves past a string, checking escapes and control characters (UTF-8 is checked only
    /// where the string is decoded).
    mutating func skipString() throws {
        index += 1
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") { index += 1; return }
            if b < 0x20 { throw error("control character in string") }
            if b == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { break }
                let e = bytes[index + 1]
                if e == UInt8(ascii: "u") {
                    index += 2
                    _ = try parseHex4()
                    continue
                }
                guard "\"\\/bfnrt".utf8.contains(e) else { throw error("invalid escape") }
                index += 2
                continue
            }
            index += 1
        }
        throw error("unterminated string")
    }
}
