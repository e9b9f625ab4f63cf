/// A CSV problem: where (line, column) and what is wrong.
public struct CSVError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// OHLCV bars from CSV: `timestamp,open,high,low,close,volume` with an optional header, or
/// Binance kline dumps (open time first, then OHLCV, extra columns ignored). Timestamps may be
/// seconds, milliseconds or microseconds since the epoch; they are normalised to milliseconds.
public enum OHLCVCSV {
    public static func parse(_ text: String) throws(CSVError) -> [Bar] {
        var bars: [Bar] = []
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
            if bars.isEmpty, lineNumber == firstContentLine(text), Double(fields[0]) == nil {
                let header = fields.map { $0.lowercased() }
                guard header.count >= 6 else {
                    throw CSVError(
                        line: lineNumber,
                        message: "header has \(header.count) columns; expected timestamp,open,high,low,close,volume")
                }
                continue
            }
            guard fields.count >= 6 else {
                throw CSVError(
                    line: lineNumber,
                    message: "expected 6 columns (timestamp,open,high,low,close,volume), got \(fields.count)")
            }
            guard let rawTime = Double(fields[0]), rawTime.isFinite, rawTime >= 0 else {
                throw CSVError(
                    line: lineNumber,
                    message: "timestamp '\(fields[0].prefix(40))' is not a number of seconds or milliseconds")
            }
            var values: [Double] = []
            for (i, name) in ["open", "high", "low", "close", "volume"].enumerated() {
                guard let v = Double(fields[i + 1]), v.isFinite, v >= 0 else {
                    throw CSVError(
                        line: lineNumber, message: "\(name) '\(fields[i + 1].prefix(40))' is not a non-negative number")
                }
                values.append(v)
            }
            let ms = rawTime < 1e11 ? rawTime * 1000 : rawTime < 1e14 ? rawTime : rawTime / 1000
            // Found by `make fuzz`: a timestamp past any epoch unit must be an error, not a trap.
            guard ms < 1e16 else {
                throw CSVError(
                    line: lineNumber,
                    message:
                        "timestamp '\(fields[0].prefix(40))' is out of range (epoch seconds, milliseconds or microseconds)"
                )
            }
            let bar = Bar(
                time: Int64(ms), open: values[0], high: values[1], low: values[2], close: values[3], volume: values[4])
            guard bar.low <= min(bar.open, bar.close), bar.high >= max(bar.open, bar.close) else {
                throw CSVError(
                    line: lineNumber,
                    message:
                        "high/low do not contain open/close (o=\(bar.open) h=\(bar.high) l=\(bar.low) c=\(bar.close))")
            }
            if let last = bars.last, bar.time <= last.time {
                throw CSVError(line: lineNumber, message: "timestamps must increase (\(bar.time) after \(last.time))")
            }
            bars.append(bar)
        }
        return bars
    }

    private static func firstContentLine(_ text: String) -> Int {
        var n = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            n += 1
            if !line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { return n }
        }
        return n
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(
            drop { $0 == " " || $0 == "\t" || $0 == "\"" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\"" }
                .reversed())
    }
}
