/// One RESP2 or RESP3 reply. RESP3 attributes (`|`) are read and dropped: nothing we send asks
/// for them, and a client must still get past them.
public indirect enum RESPValue: Equatable, Sendable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// A bulk string; nil is RESP2's null bulk (`$-1`).
    case bulk([UInt8]?)
    /// An array; nil is RESP2's null array (`*-1`).
    case array([RESPValue]?)
    /// RESP3 `_`.
    case null
    case boolean(Bool)
    case double(Double)
    case bigNumber(String)
    /// RESP3 `=`: a three-letter format (`txt`, `mkd`) and the text.
    case verbatim(format: String, text: [UInt8])
    /// RESP3 `%`, as key, value, key, value…
    case map([RESPValue])
    case set([RESPValue])
    /// RESP3 `>`: out-of-band messages (pub/sub under RESP3).
    case push([RESPValue])
    /// RESP3 `!`.
    case bulkError([UInt8])

    /// The reply as text when it is one (simple, bulk, verbatim).
    public var string: String? {
        switch self {
        case .simple(let s): s
        case .bulk(let b?): String(decoding: b, as: UTF8.self)
        case .verbatim(_, let t): String(decoding: t, as: UTF8.self)
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let b): b
        case .simple(let s): Array(s.utf8)
        case .verbatim(_, let t): t
        default: nil
        }
    }

    public var integer: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The elements of an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let a?), .set(let a), .push(let a): a
        default: nil
        }
    }

    public var isNull: Bool {
        switch self {
        case .null, .bulk(nil), .array(nil): true
        default: false
        }
    }

    /// The server's error text (`-ERR …` or `!…`), nil for any other reply.
    public var errorMessage: String? {
        switch self {
        case .error(let e): e
        case .bulkError(let b): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }

    /// A command as Redis reads it: an array of bulk strings.
    public static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = Array("*\(arguments.count)\r\n".utf8)
        for a in arguments {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [13, 10]
        }
        return out
    }

    public static func command(_ arguments: [String]) -> [UInt8] { command(arguments.map { Array($0.utf8) }) }

    /// Appends `$<count>\r\n` (a bulk string's header) without building a String.
    public static func appendBulkHeader(_ count: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        appendDecimal(count, to: &out)
        out += [13, 10]
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
