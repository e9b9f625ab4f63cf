import ExchangeModel
import JSON
import MarketData
import SystemKit

/// Bars to backtest on, from a CSV file, the simulator's price model, or an exchange, checked
/// for what would make a result meaningless (bad rows, gaps).
public struct DataSet: Sendable {
    public struct Summary: Sendable {
        /// `file`, `synthetic` or `exchange`.
        public var source: String
        public var name: String
        public var bars = 0
        public var fingerprint = ""
        public var skipped: [String] = []
        public var gaps = 0
        public var largestGapMs: Int64 = 0

        public var json: JSON {
            [
                "source": .string(source), "name": .string(name), "bars": JSON(bars),
                "fingerprint": .string(fingerprint), "skipped_rows": JSON(skipped.count),
                "skipped": .array(skipped.prefix(20).map { .string($0) }), "gaps": JSON(gaps),
                "largest_gap_s": JSON(Double(largestGapMs) / 1000),
            ]
        }
    }

    /// Bad data: says where (file:line) and what to do.
    public struct DataError: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public var bars: [Bar]
    public var summary: Summary

    public init(bars: [Bar], summary: Summary) {
        self.bars = bars
        self.summary = summary
        self.summary.bars = bars.count
        self.summary.fingerprint = DataSet.fingerprint(bars)
    }

    /// A CSV file. `maxGap`: a step between bars longer than this many median intervals is an
    /// error (0: any gap is accepted); with `skipBadRows` bad rows and gaps are counted instead.
    public static func load(csv path: String, skipBadRows: Bool, maxGap: Double) throws(DataError) -> DataSet {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch { throw DataError("cannot read \(path): \(error)") }
        var parser = OHLCVCSVParser(skipBadRows: skipBadRows)
        do throws(CSVError) {
            try parser.feed(bytes)
            try parser.finish()
        } catch {
            throw DataError("\(path):\(error.line): \(error.message)")
        }
        var summary = Summary(source: "file", name: path)
        summary.skipped = parser.skipped.map { "\(path):\($0.line): \($0.message)" }
        let bars = parser.bars
        guard bars.count >= 2 else {
            throw DataError("\(path): \(bars.count) bars; a backtest needs at least 2 (is it an OHLCV CSV?)")
        }
        try checkGaps(bars, lines: parser.lines, path: path, maxGap: maxGap, count: !skipBadRows, into: &summary)
        return DataSet(bars: bars, summary: summary)
    }

    static func checkGaps(
        _ bars: [Bar], lines: [Int], path: String, maxGap: Double, count onlyCount: Bool,
        into summary: inout Summary
    ) throws(DataError) {
        let steps = zip(bars.dropFirst(), bars).map { $0.time - $1.time }.sorted()
        let median = steps[steps.count / 2]
        guard maxGap > 0, median > 0 else { return }
        let limit = Double(median) * maxGap
        for i in 1..<bars.count where Double(bars[i].time - bars[i - 1].time) > limit {
            let gap = bars[i].time - bars[i - 1].time
            if onlyCount {
                throw DataError(
                    "\(path):\(lines[i]): gap of \(DataSet.span(gap)) after \(ISO8601Time.format(ms: bars[i - 1].time)) (bars are \(DataSet.span(median)) apart); fill it, raise --max-gap (now \(maxGap) intervals; 0 accepts any), or pass --skip-bad-rows to count gaps instead"
                )
            }
            summary.gaps += 1
            summary.largestGapMs = max(summary.largestGapMs, gap)
        }
    }

    /// Bars of the simulator's seeded price model for `symbol`, `seconds` apart.
    public static func synthetic(symbol: String, bars count: Int, seed: UInt64, seconds: Int64, startMs: Int64)
        -> DataSet
    {
        let base = DataSet.baseAsset(symbol)
        var market = SyntheticMarket(seed: seed, symbol: symbol, base: base)
        let bars = market.bars(count: count, seconds: seconds, startMs: startMs)
        return DataSet(
            bars: bars,
            summary: Summary(source: "synthetic", name: "\(symbol) seed \(seed), \(count) × \(seconds) s"))
    }

    /// `BTCUSDT` → `BTC` (the quote assets the simulator knows).
    static func baseAsset(_ symbol: String) -> String {
        for quote in ["USDT", "USDC", "BUSD", "BTC", "ETH", "EUR", "USD"] where symbol.hasSuffix(quote) {
            if symbol.count > quote.count { return String(symbol.dropLast(quote.count)) }
        }
        return symbol
    }

    /// FNV-1a over every bar's fields: equal data, equal fingerprint, whatever the file looked like.
    static func fingerprint(_ bars: [Bar]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) {
            var v = v
            for _ in 0..<8 {
                h = (h ^ (v & 0xff)) &* 0x100_0000_01b3
                v >>= 8
            }
        }
        for b in bars {
            mix(UInt64(bitPattern: b.time))
            for x in [b.open, b.high, b.low, b.close, b.volume] { mix(x.bitPattern) }
        }
        let hex = String(h, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The bars as CSV, exactly (shortest round-trip decimals).
    public var csv: String {
        var out = "timestamp,open,high,low,close,volume\n"
        out.reserveCapacity(bars.count * 64)
        for b in bars { out += "\(b.time),\(b.open),\(b.high),\(b.low),\(b.close),\(b.volume)\n" }
        return out
    }

    /// `3 days`, `5 min`, `90 s`.
    static func span(_ ms: Int64) -> String {
        let s = ms / 1000
        if s % 86_400 == 0 { return "\(s / 86_400) day\(s == 86_400 ? "" : "s")" }
        if s % 3600 == 0 { return "\(s / 3600) h" }
        if s % 60 == 0 { return "\(s / 60) min" }
        return "\(Double(ms) / 1000) s"
    }
}

extension DataSet {
    /// Closed klines from an exchange (the one still forming is left out).
    public static func fetch(
        from exchange: any ExchangeAPI, symbol: String, interval: String, bars: Int, source: String
    )
        async throws -> DataSet
    {
        let klines = try await exchange.klines(symbol, interval: interval, limit: bars + 1)
        let closed = Array(klines.dropLast())
        guard closed.count >= 2 else {
            throw DataError(
                "\(source): \(symbol) \(interval) gave \(closed.count) closed bars; a backtest needs at least 2")
        }
        for (a, b) in zip(closed, closed.dropFirst()) where b.time <= a.time {
            throw DataError("\(source): \(symbol) klines out of order at \(ISO8601Time.format(ms: b.time))")
        }
        return DataSet(
            bars: closed, summary: Summary(source: "exchange", name: "\(symbol) \(interval) from \(source)"))
    }
}
