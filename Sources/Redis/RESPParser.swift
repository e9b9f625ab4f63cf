/// An incremental RESP2/RESP3 reader: bytes go in as they arrive (one at a time or a whole
/// pipeline's worth), whole replies come out. A reply is only built once all of its bytes are
/// here, and declared lengths, counts and depth are checked before anything is kept, so a
/// hostile or broken server cannot make it allocate without bound or recurse without end.
public struct RESPParser: Sendable {
    public struct Limits: Sendable {
        /// Redis's own `proto-max-bulk-len` default is 512 MiB; ours is smaller.
        public var maxBulkBytes = 64 << 20
        public var maxElements = 1 << 20
        public var maxDepth = 32
        /// A `+`/`-`/`:` line longer than this without CRLF is an error.
        public var maxLineBytes = 64 << 10
        public init() {}
    }

    public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Bytes waiting for the rest of their reply.
    public var buffered: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole reply, or nil until more bytes arrive. After a `ProtocolError` the
    /// stream cannot be trusted: drop the connection.
    public mutating func next() throws(ProtocolError) -> RESPValue? {
        var i = start
        guard let value = try parse(&i, depth: 0) else {
            if buffer.count - start > limits.maxBulkBytes + limits.maxLineBytes {
                throw ProtocolError("a reply is larger than \(limits.maxBulkBytes) bytes")
            }
            return nil
        }
        start = i
        if start > 1 << 16 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return value
    }

    /// One value from `i` on; nil (and `i` unspecified) when the bytes end first.
    private func parse(_ i: inout Int, depth: Int) throws(ProtocolError) -> RESPValue? {
        guard depth <= limits.maxDepth else { throw ProtocolError("replies nested deeper than \(limits.maxDepth)") }
        guard i < buffer.count else { return nil }
        let type = buffer[i]
        i += 1
        guard let line = try line(&i) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"): return .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"): return .integer(try integer(line))
        case UInt8(ascii: "_"):
            guard line.isEmpty else { throw ProtocolError("null with a payload") }
            return .null
        case UInt8(ascii: "#"):
            guard line.count == 1, let b = line.first, b == UInt8(ascii: "t") || b == UInt8(ascii: "f") else {
                throw ProtocolError("boolean is neither t nor f")
            }
            return .boolean(b == UInt8(ascii: "t"))
        case UInt8(ascii: ","):
            let text = String(decoding: line, as: UTF8.self)
            switch text {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let d = Double(text), !text.isEmpty else {
                    throw ProtocolError("bad double '\(text.prefix(40))'")
                }
                return .double(d)
            }
        case UInt8(ascii: "("):
            guard !line.isEmpty, line.enumerated().allSatisfy({ ($1 >= 48 && $1 <= 57) || ($0 == 0 && $1 == 45) })
            else { throw ProtocolError("bad big number") }
            return .bigNumber(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let n = try integer(line)
            if n == -1 && type == UInt8(ascii: "$") { return .bulk(nil) }
            guard n >= 0 else { throw ProtocolError("negative length \(n)") }
            guard n <= limits.maxBulkBytes else {
                throw ProtocolError("bulk of \(n) bytes is over the \(limits.maxBulkBytes)-byte limit")
            }
            let count = Int(n)
            guard buffer.count - i >= count + 2 else { return nil }
            guard buffer[i + count] == 13, buffer[i + count + 1] == 10 else {
                throw ProtocolError("bulk of \(count) bytes is not followed by CRLF")
            }
            let payload = Array(buffer[i..<(i + count)])
            i += count + 2
            switch type {
            case UInt8(ascii: "$"): return .bulk(payload)
            case UInt8(ascii: "!"): return .bulkError(payload)
            default:
                guard payload.count >= 4, payload[3] == UInt8(ascii: ":") else {
                    throw ProtocolError("verbatim string without a format")
                }
                return .verbatim(format: String(decoding: payload[0..<3], as: UTF8.self), text: Array(payload[4...]))
            }
        case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            let n = try integer(line)
            if n == -1 && type == UInt8(ascii: "*") { return .array(nil) }
            guard n >= 0 else { throw ProtocolError("negative count \(n)") }
            let isPairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            guard n <= limits.maxElements / (isPairs ? 2 : 1) else {
                throw ProtocolError("aggregate of \(n) elements is over the \(limits.maxElements) limit")
            }
            let count = Int(n) * (isPairs ? 2 : 1)
            // No capacity reserved from the declared count: elements are kept as they parse.
            var items: [RESPValue] = []
            for _ in 0..<count {
                guard let item = try parse(&i, depth: depth + 1) else { return nil }
                items.append(item)
            }
            switch type {
            case UInt8(ascii: "*"): return .array(items)
            case UInt8(ascii: "%"): return .map(items)
            case UInt8(ascii: "~"): return .set(items)
            case UInt8(ascii: ">"): return .push(items)
            default:
                // An attribute annotates the reply after it: read past it.
                return try parse(&i, depth: depth + 1)
            }
        default:
            throw ProtocolError("unknown reply type byte 0x\(String(type, radix: 16))")
        }
    }

    /// The bytes up to CRLF from `i`, or nil when CRLF has not arrived.
    private func line(_ i: inout Int) throws(ProtocolError) -> ArraySlice<UInt8>? {
        var j = i
        while j + 1 < buffer.count {
            if buffer[j] == 13 {
                guard buffer[j + 1] == 10 else { throw ProtocolError("CR without LF") }
                defer { i = j + 2 }
                return buffer[i..<j]
            }
            j += 1
            if j - i > limits.maxLineBytes { throw ProtocolError("a line longer than \(limits.maxLineBytes) bytes") }
        }
        if buffer.count - i > limits.maxLineBytes {
            throw ProtocolError("a line longer than \(limits.maxLineBytes) bytes")
        }
        return nil
    }

    private func integer(_ line: ArraySlice<UInt8>) throws(ProtocolError) -> Int64 {
        guard let v = Int64(String(decoding: line, as: UTF8.self)) else {
            throw ProtocolError("bad integer '\(String(decoding: line.prefix(40), as: UTF8.self))'")
        }
        return v
    }
}
