import Testing

@testable import JSON

@Suite struct JSONIntegerTests {
    @Test func integersStayExactPastTwoToTheFiftyThird() throws {
        let parsed = try JSON.parse(
            "{\"id\": 9007199254740993, \"max\": 9223372036854775807, \"min\": -9223372036854775808}")
        #expect(parsed["id"] == .integer(9_007_199_254_740_993))
        #expect(parsed["id"]?.int64Value == 9_007_199_254_740_993)
        #expect(parsed["max"]?.int64Value == Int64.max && parsed["min"]?.int64Value == Int64.min)
        #expect(
            parsed.serialized() == "{\"id\":9007199254740993,\"max\":9223372036854775807,\"min\":-9223372036854775808}")
    }

    @Test(arguments: ["1.0", "1e3", "-0.5", "18446744073709551616"])
    func fractionsExponentsAndHugeNumbersAreDoubles(text: String) throws {
        guard case .number = try JSON.parse(text) else {
            Issue.record("\(text) should parse as a double")
            return
        }
    }

    @Test func integerAndDoubleCompareByValue() throws {
        #expect(JSON.integer(3) == .number(3.0))
        #expect(JSON.number(3.5) != .integer(3))
        #expect(try JSON.parse("[1, 2.0]") == [1, 2])
        #expect(JSON(Int64(42)).intValue == 42 && JSON(3.0).intValue == 3 && JSON(3.5).intValue == nil)
        #expect(JSON.integer(7).doubleValue == 7)
    }
}

@Suite struct JSONWriterTests {
    @Test func writesWhatTheValueTreeWould() throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("lastUpdateId")
        w.integer(-42)
        w.key("bids")
        w.beginArray()
        for level in [("1.5", "2"), ("1.4", "0.25")] {
            w.beginArray()
            w.string(level.0)
            w.string(level.1)
            w.endArray()
        }
        w.endArray()
        w.key("empty")
        w.beginArray()
        w.endArray()
        w.key("text")
        w.string("quote \" back \\ nl \n tab \t bell \u{7} é")
        w.key("flags")
        w.beginArray()
        w.bool(true)
        w.null()
        w.number(0.5)
        w.number(.nan)
        w.raw(["nested": [1]])
        w.endArray()
        w.endObject()
        let parsed = try JSON.parse(w.bytes)
        #expect(
            parsed == [
                "lastUpdateId": -42, "bids": [["1.5", "2"], ["1.4", "0.25"]], "empty": [],
                "text": "quote \" back \\ nl \n tab \t bell \u{7} é", "flags": [true, nil, 0.5, nil, ["nested": [1]]],
            ])
        #expect(String(decoding: w.bytes, as: UTF8.self).hasPrefix("{\"lastUpdateId\":-42,\"bids\":[[\"1.5\",\"2\"],"))
    }

    @Test func extremeIntegers() throws {
        var w = JSONWriter()
        w.beginArray()
        w.integer(.min)
        w.integer(.max)
        w.integer(0)
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == "[-9223372036854775808,9223372036854775807,0]")
    }
}
