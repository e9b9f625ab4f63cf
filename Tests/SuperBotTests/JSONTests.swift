import Testing

@testable import JSON

@Suite struct JSONTests {
    @Test func roundTrip() throws {
        let text = #"{"a":[1,2.5,-3e2,true,false,null],"b":{"c":"d\"\\\n\u0001é😀"},"n":0}"#
        let value = try JSON.parse(text)
        #expect(value["a"]?.arrayValue?.count == 6)
        #expect(value["a"]?.arrayValue?[2] == .number(-300))
        #expect(value["b"]?["c"]?.stringValue == "d\"\\\n\u{1}é😀")
        #expect(try JSON.parse(value.serialized()) == value)
        #expect(JSON.number(42).serialized() == "42")
        #expect(JSON.number(0.25).serialized() == "0.25")
    }

    @Test func surrogatePairs() throws {
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONParseError.self) { try JSON.parse(#""\ud83d""#) }
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "tru", "\"abc", "{\"a\" 1}", "[1 2]", "nul", "\"\u{01}\"",
        "{1:2}", "1 2", "\"\\x\"", "[\"a\",]",
    ])
    func malformed(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
    }

    @Test func accessors() {
        let v: JSON = ["i": 3, "f": 1.5, "s": "x", "b": true]
        #expect(v["i"]?.intValue == 3)
        #expect(v["f"]?.intValue == nil)
        #expect(v["s"]?.stringValue == "x")
        #expect(v["b"]?.boolValue == true)
        #expect(v["missing"] == nil)
    }
}
