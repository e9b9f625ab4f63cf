import MarketData
import SystemKit
import Testing

/// The CSV reader fed all at once, byte by byte and in every two-piece split, and given bad rows.
@Suite struct OHLCVCSVParserTests {
    static let sample = """
        Date,Open,High,Low,Close,Volume\r
        2004-08-19,100,104.06,95.96,100.34,22351900\r
        2004-08-20,101.01,109.08,100.5,108.31,11428600\r
        \r
        2004-08-23,110.75,113.48,109.05,109.4,9137200
        """

    func parse(_ text: String, chunk: Int? = nil, skip: Bool = false) throws(CSVError) -> OHLCVCSVParser {
        var p = OHLCVCSVParser(skipBadRows: skip)
        let bytes = Array(text.utf8)
        if let chunk {
            var i = 0
            while i < bytes.count {
                try p.feed(bytes[i..<min(i + chunk, bytes.count)])
                i += chunk
            }
        } else {
            try p.feed(bytes)
        }
        try p.finish()
        return p
    }

    @Test func byteByByteEqualsAllAtOnce() throws {
        let whole = try parse(Self.sample)
        #expect(whole.bars.count == 3)
        #expect(whole.bars[0].time == CivilCalendar.days(year: 2004, month: 8, day: 19) * 86_400_000)
        #expect(whole.bars[2].close == 109.4 && whole.bars[2].volume == 9_137_200)
        #expect(whole.lines == [2, 3, 5])
        #expect(try parse(Self.sample, chunk: 1).bars == whole.bars)
        let bytes = Array(Self.sample.utf8)
        for cut in 1..<bytes.count {
            var p = OHLCVCSVParser()
            try p.feed(bytes[..<cut])
            try p.feed(bytes[cut...])
            try p.finish()
            #expect(p.bars == whole.bars, "split at \(cut)")
        }
    }

    @Test func columnsAreFoundByNameAndTimesInEveryUnit() throws {
        let named = try parse("time,close,open,low,high,volume\n1700000000,2,1,0.5,3,7\n").bars
        #expect(named == [Bar(time: 1_700_000_000_000, open: 1, high: 3, low: 0.5, close: 2, volume: 7)])
        let units = try parse(
            "1700000000,1,2,0.5,1,1\n1700000060000,1,2,0.5,1,1\n1700000120000000,1,2,0.5,1,1\n2023-11-14T22:16:00Z,1,2,0.5,1,1\n2023-11-14 22:17:00.500,1,2,0.5,1,1\n2023-11-15T00:18:00+02:00,1,2,0.5,1,1\n"
        ).bars.map(\.time)
        #expect(
            units == [
                1_700_000_000_000, 1_700_000_060_000, 1_700_000_120_000, 1_700_000_160_000, 1_700_000_220_500,
                1_700_000_280_000,
            ])
    }

    @Test(arguments: [
        ("2024-02-30,1,2,0.5,1,1\n", "not epoch"), ("2024-13-01,1,2,0.5,1,1\n", "not epoch"),
        ("2024-01-01T24:00,1,2,0.5,1,1\n", "not epoch"), ("2024-01-01x,1,2,0.5,1,1\n", "not epoch"),
    ])
    func badDatesAreErrors(text: String, message: String) {
        // The first line is taken for a header when its time does not parse; put a good row first.
        let body = "1700000000,1,2,0.5,1,1\n" + text
        #expect { _ = try parse(body) } throws: {
            let e = $0 as? CSVError
            return e?.line == 2 && e!.message.contains(message)
        }
    }

    @Test(arguments: [
        ("nan", "close 'nan' is not a non-negative number"), ("-1", "close '-1' is not"), ("inf", "close 'inf'"),
        ("0x10", "close '0x10'"), ("", "close ''"),
    ])
    func badNumbersNameTheColumn(close: String, message: String) {
        let text = "t,o,h,l,c,v\n1700000000,1,2,0.5,\(close),1\n"
        #expect { _ = try parse(text) } throws: {
            let e = $0 as? CSVError
            return e?.line == 2 && e!.message.contains(message)
        }
    }

    @Test func orderAndShapeErrors() {
        for (text, line, message) in [
            ("1700000000,1,2,0.5,1,1\n1700000000,1,2,0.5,1,1\n", 2, "duplicate timestamp"),
            ("1700000060,1,2,0.5,1,1\n1700000000,1,2,0.5,1,1\n", 2, "timestamp goes back"),
            ("1700000000,1,0.5,0.4,1,1\n", 1, "high/low do not contain"),
            ("1700000000,1,2,3\n", 1, "expected 6 columns"), ("a,b,c\n", 1, "header has 3 columns"),
        ] {
            #expect(throws: CSVError.self, "\(text)") { _ = try parse(text) }
            do {
                _ = try parse(text)
            } catch {
                #expect(error.line == line && error.message.contains(message), "\(error)")
            }
        }
    }

    @Test func skippingBadRowsKeepsTheGoodOnesAndSaysWhich() throws {
        let text =
            "t,o,h,l,c,v\n1700000000,1,2,0.5,1,1\n1700000060,1,2,0.5,nan,1\n1700000000,1,2,0.5,1,1\n1700000120,1,2,0.5,1.5,1\n"
        let p = try parse(text, chunk: 3, skip: true)
        #expect(p.bars.map(\.time) == [1_700_000_000_000, 1_700_000_120_000])
        #expect(p.skipped.map(\.line) == [3, 4])
    }

    @Test func anEndlessLineIsRefused() {
        var p = OHLCVCSVParser()
        let long = [UInt8](repeating: UInt8(ascii: "1"), count: OHLCVCSVParser.maxLineBytes + 1)
        #expect(throws: CSVError.self) { try p.feed(long) }
    }

    @Test func isoTimesRoundTrip() {
        for ms: Int64 in [0, 1_700_000_220_500, 951_782_400_000, -86_400_000] {
            #expect(ISO8601Time.parse(Array(ISO8601Time.format(ms: ms).utf8)) == ms)
        }
        #expect(ISO8601Time.format(ms: 951_782_400_000) == "2000-02-29T00:00:00Z")
    }
}
