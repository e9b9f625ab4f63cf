import Glibc

/// Finds the members of a JSON object as byte ranges, validating the text without building
/// values. The bus relay uses it to read a publish's topic and forward its `data` verbatim —
/// no decode, no re-encode.
public enum JSONScanner {
    /// Calls `visit(key, value)` for each member of the object spanning `range`, where `key` is the
    /// range of the key's bytes inside its quotes (escapes not decoded); allocates nothing.
    /// Returns false if the text is not exactly one valid object.
    public static func forEachMember(
        _ bytes: [UInt8], in range: Range<Int>? = nil, maxDepth: Int = 256, _ visit: (Range<Int>, Range<Int>) -> Void
    ) -> Bool {
        forEachItem(bytes, in: range, maxDepth: maxDepth, open: 0x7B, close: 0x7D) { s in
            guard s.i < s.end, s.p[s.i] == 0x22 else { return false }
            let keyStart = s.i + 1
            guard s.string() else { return false }
            let key = keyStart..<(s.i - 1)
            s.skipWhitespace()
            guard s.i < s.end, s.p[s.i] == 0x3A else { return false }
            s.i += 1
            s.skipWhitespace()
            let start = s.i
            guard s.value(depth: 1) else { return false }
            visit(key, start..<s.i)
            return true
        }
    }

    /// Calls `visit(element)` for each element of the array spanning `range`; allocates nothing.
    /// Returns false if the text is not exactly one valid array.
    public static func forEachElement(
        _ bytes: [UInt8], in range: Range<Int>? = nil, maxDepth: Int = 256, _ visit: (Range<Int>) -> Void
    ) -> Bool {
        forEachItem(bytes, in: range, maxDepth: maxDepth, open: 0x5B, close: 0x5D) { s in
            let start = s.i
            guard s.value(depth: 1) else { return false }
            visit(start..<s.i)
            return true
        }
    }

    /// The container both share: `open`, items separated by commas (each read by `item`, which
    /// starts at the item's first byte), `close`, and nothing after it but whitespace.
    @inline(__always)
    private static func forEachItem(
        _ bytes: [UInt8], in range: Range<Int>?, maxDepth: Int, open: UInt8, close: UInt8,
        _ item: (inout RawScanner) -> Bool
    ) -> Bool {
        let r = range ?? 0..<bytes.count
        return bytes.withUnsafeBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress, r.upperBound <= buffer.count else { return false }
            var s = RawScanner(p: base, end: r.upperBound, i: r.lowerBound, maxDepth: maxDepth)
            s.skipWhitespace()
            guard s.i < s.end, base[s.i] == open else { return false }
            s.i += 1
            s.skipWhitespace()
            if s.i < s.end && base[s.i] == close {
                s.i += 1
                s.skipWhitespace()
                return s.i == s.end
            }
            while true {
                s.skipWhitespace()
                guard item(&s) else { return false }
                s.skipWhitespace()
                guard s.i < s.end else { return false }
                if base[s.i] == 0x2C {
                    s.i += 1
                    continue
                }
                if base[s.i] == close {
                    s.i += 1
                    s.skipWhitespace()
                    return s.i == s.end
                }
                return false
            }
        }
    }

    /// Whether `bytes` is valid UTF-8; ASCII text (the usual case) is checked eight bytes at a time.
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        let ascii = bytes.withUnsafeBytes { raw -> Bool in
            var k = 0
            let n = raw.count
            while k + 8 <= n {
                if raw.loadUnaligned(fromByteOffset: k, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
                k += 8
            }
            while k < n {
                if raw[k] >= 0x80 { return false }
                k += 1
            }
            return true
        }
        return ascii || String(validating: bytes, as: UTF8.self) != nil
    }

    /// Whether `bytes[range]` equals `literal` byte for byte.
    @inline(__always)
    public static func equal(_ bytes: [UInt8], _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        return bytes.withUnsafeBufferPointer {
            memcmp($0.baseAddress! + range.lowerBound, literal.utf8Start, range.count) == 0
        }
    }

    /// Whether `bytes[range]` equals `other` byte for byte.
    @inline(__always)
    public static func equal(_ bytes: [UInt8], _ range: Range<Int>, _ other: [UInt8]) -> Bool {
        guard range.count == other.count, range.upperBound <= bytes.count else { return false }
        return bytes.withUnsafeBufferPointer { all in
            other.withUnsafeBufferPointer {
                memcmp(all.baseAddress! + range.lowerBound, $0.baseAddress!, range.count) == 0
            }
        }
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
