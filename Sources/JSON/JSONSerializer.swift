extension JSON {
    /// Compact JSON text with sorted keys (deterministic output for logs and tests).
    public func serialized() -> String { String(decoding: serializedBytes(), as: UTF8.self) }

    /// The same text as bytes, written byte by byte: every RPC answer goes through here.
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: JSON.appendLiteral("null", to: &out)
        case .bool(let b): JSON.appendLiteral(b ? "true" : "false", to: &out)
        case .integer(let i): JSON.appendInteger(i, to: &out)
        case .number(let n): JSON.appendNumber(n, to: &out)
        case .string(let s): JSON.appendString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSON.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `s` as a JSON string literal, for callers that build text around it.
    public static func writeString(_ s: String, to out: inout String) {
        var bytes: [UInt8] = []
        appendString(s, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    static func appendLiteral(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Integral values below 1e15 without a fraction (`3`, not `3.0`), others as Swift's
    /// shortest round-tripping form; non-finite values, which JSON cannot hold, as null.
    static func appendNumber(_ n: Double, to out: inout [UInt8]) {
        if !n.isFinite {
            appendLiteral("null", to: &out)
        } else if n.rounded() == n && abs(n) < 1e15 {
            appendInteger(Int64(n), to: &out)
        } else {
            out.append(contentsOf: String(n).utf8)
        }
    }

    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // The magnitude of Int64.min does not fit Int64: go through UInt64.
        appendDecimal(value < 0 ? UInt64(bitPattern: 0 &- value) : UInt64(value), to: &out)
    }

    /// Decimal digits of `value`, zero-padded to `width`; inlinable because the bus relay frames
    /// every message's sequence number and timestamp with it.
    @inlinable @inline(__always)
    public static func appendDecimal(_ value: UInt64, width: Int = 0, to out: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            } while n > 0
            while count < width && count < 24 {
                buffer[23 - count] = UInt8(ascii: "0")
                count += 1
            }
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// Escapes `"`, `\` and control characters (`\n`, `\r`, `\t`, else `\u00XX`); copies
    /// everything else, UTF-8 included, in runs.
    static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                switch b {
                case UInt8(ascii: "\""): appendLiteral("\\\"", to: &out)
                case UInt8(ascii: "\\"): appendLiteral("\\\\", to: &out)
                case 0x0A: appendLiteral("\\n", to: &out)
                case 0x0D: appendLiteral("\\r", to: &out)
                case 0x09: appendLiteral("\\t", to: &out)
                default:
                    let hex: StaticString = "0123456789abcdef"
                    appendLiteral("\\u00", to: &out)
                    out.append(hex.utf8Start[Int(b >> 4)])
                    out.append(hex.utf8Start[Int(b & 15)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
