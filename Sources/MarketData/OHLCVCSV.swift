/// A CSV problem: where (line) and what is wrong.
public struct CSVError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}

/// OHLCV bars from CSV, all at once. See `OHLCVCSVParser` for the shapes it reads.
public enum OHLCVCSV {
    public static func parse(_ text: String) throws(CSVError) -> [Bar] {
        var parser = OHLCVCSVParser()
        try parser.feed(text.utf8)
        try parser.finish()
        return parser.bars
    }
}

/// OHLCV bars from CSV, fed in chunks of any size (a file read, a socket, one byte at a time):
/// `timestamp,open,high,low,close,volume` with an optional header (columns found by name when
/// it names them, so `Date,Open,High,Low,Close,Volume` exports work; an unnamed first column is
/// the time), or Binance kline dumps (open time first, extra columns ignored). Timestamps are
/// epoch seconds, milliseconds or microseconds, or ISO 8601 (`2024-01-31`,
/// `2024-01-31T10:00:00Z`, `2024-01-31 10:00:00+02:00`); all become milliseconds.
///
/// A bad row (unparsable, NaN or negative price, high below low, a timestamp not after the
/// previous one) is an error naming its line, or with `skipBadRows` is counted in `skipped`.
public struct OHLCVCSVParser: Sendable {
    public private(set) var bars: [Bar] = []
    /// The line each bar came from, for errors found later (gaps).
    public private(set) var lines: [Int] = []
    /// Rows left out under `skipBadRows`, with why.
    public private(set) var skipped: [CSVError] = []
    public let skipBadRows: Bool
    /// Lines longer than this are refused instead of buffered without end.
    public static let maxLineBytes = 64 * 1024

    private var partial: [UInt8] = []
    private var lineNumber = 0
    private var sawContent = false
    /// Column indexes of time, open, high, low, close, volume.
    private var columns = [0, 1, 2, 3, 4, 5]

    public init(skipBadRows: Bool = false) { self.skipBadRows = skipBadRows }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(CSVError) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                try endLine()
            } else {
                guard partial.count < Self.maxLineBytes else {
                    throw CSVError(line: lineNumber + 1, message: "line is longer than \(Self.maxLineBytes) bytes")
                }
                partial.append(byte)
            }
        }
    }

    /// The input ended: a last line without a newline still counts.
    public mutating func finish() throws(CSVError) {
        if !partial.isEmpty { try endLine() }
    }

    private mutating func endLine() throws(CSVError) {
        lineNumber += 1
        defer { partial.removeAll(keepingCapacity: true) }
        if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
        guard partial.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { return }
        let fields = Self.split(partial)
        if !sawContent {
            sawContent = true
            if OHLCVCSVParser.timestamp(fields[0]) == nil {
                try readHeader(fields)
                return
            }
        }
        do throws(CSVError) {
            try row(fields)
        } catch {
            guard skipBadRows else { throw error }
            skipped.append(error)
        }
    }

    private mutating func readHeader(_ fields: [[UInt8]]) throws(CSVError) {
        let names = fields.map { String(decoding: $0, as: UTF8.self).lowercased() }
        guard names.count >= 6 else {
            throw CSVError(
                line: lineNumber,
                message: "header has \(names.count) columns; expected timestamp,open,high,low,close,volume")
        }
        let wanted = ["open", "high", "low", "close", "volume"]
        let found = wanted.map { names.firstIndex(of: $0) }
        // Unnamed columns (t,o,h,l,c,v) stay positional; named ones are found wherever they are.
        guard found.allSatisfy({ $0 != nil }) else { return }
        let timeNames = ["timestamp", "time", "date", "datetime", "open_time", "open time", ""]
        let time = names.firstIndex(where: timeNames.contains) ?? 0
        columns = [time] + found.map { $0! }
    }

    private mutating func row(_ fields: [[UInt8]]) throws(CSVError) {
        guard fields.count > columns.max()! else {
            throw CSVError(
                line: lineNumber,
                message: "expected 6 columns (timestamp,open,high,low,close,volume), got \(fields.count)")
        }
        let rawTime = fields[columns[0]]
        guard let ms = OHLCVCSVParser.timestamp(rawTime) else {
            throw CSVError(
                line: lineNumber,
                message:
                    "timestamp '\(Self.shown(rawTime))' is not epoch seconds, milliseconds or microseconds, or an ISO 8601 date"
            )
        }
        var values = [Double](repeating: 0, count: 5)
        for (i, name) in ["open", "high", "low", "close", "volume"].enumerated() {
            let raw = fields[columns[i + 1]]
            guard let v = OHLCVCSVParser.number(raw), v >= 0 else {
                throw CSVError(line: lineNumber, message: "\(name) '\(Self.shown(raw))' is not a non-negative number")
            }
            values[i] = v
        }
        let bar = Bar(time: ms, open: values[0], high: values[1], low: values[2], close: values[3], volume: values[4])
        guard bar.low <= min(bar.open, bar.close), bar.high >= max(bar.open, bar.close) else {
            throw CSVError(
                line: lineNumber,
                message: "high/low do not contain open/close (o=\(bar.open) h=\(bar.high) l=\(bar.low) c=\(bar.close))")
        }
        if let last = bars.last, bar.time <= last.time {
            let what = bar.time == last.time ? "duplicate timestamp" : "timestamp goes back"
            throw CSVError(
                line: lineNumber,
                message:
                    "\(what): \(ISO8601Time.format(ms: bar.time)) after \(ISO8601Time.format(ms: last.time)) (line \(lines.last!)); sort the file or drop the row"
            )
        }
        bars.append(bar)
        lines.append(lineNumber)
    }

    private static func shown(_ field: [UInt8]) -> String { String(decoding: field.prefix(40), as: UTF8.self) }

    /// Fields split on commas, spaces, tabs and quotes trimmed.
    static func split(_ line: [UInt8]) -> [[UInt8]] {
        let trim: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\"") }
        return line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { field in
            guard let start = field.firstIndex(where: { !trim($0) }), let end = field.lastIndex(where: { !trim($0) })
            else { return [] }
            return Array(field[start...end])
        }
    }

    /// A finite decimal number (no hex, no inf/nan), as strtod reads it.
    static func number(_ field: [UInt8]) -> Double? {
        guard !field.isEmpty, field.count < 64,
            field.allSatisfy({
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".")
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "e")
                    || $0 == UInt8(ascii: "E")
            })
        else { return nil }
        guard let v = Double(String(decoding: field, as: UTF8.self)), v.isFinite else { return nil }
        return v
    }

    /// Milliseconds since the epoch from epoch seconds/ms/µs or ISO 8601.
    static func timestamp(_ field: [UInt8]) -> Int64? {
        if let t = number(field) {
            guard t >= 0 else { return nil }
            let ms = t < 1e11 ? t * 1000 : t < 1e14 ? t : t / 1000
            // Found by `make fuzz`: a timestamp past any epoch unit must be an error, not a trap.
            guard ms < 1e16 else { return nil }
            return Int64(ms.rounded())
        }
        return ISO8601Time.parse(field)
    }
}
