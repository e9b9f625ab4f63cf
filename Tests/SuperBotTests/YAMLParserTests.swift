import Testing

@testable import YAML

@Suite struct YAMLParserTests {
    @Test func blockMappingsSequencesAndScalars() throws {
        let doc = try YAMLParser.parse(
            """
            # comment
            daemon:
              name: superbot   # trailing comment
              port: 8080
              ratio: 0.5
              on: true
              nothing: ~
              list:
                - a
                - "b c"
                - 'it''s'
              inline: [1, two, "three", {k: v}]
              flow: {enabled: false, cron: "0 2 * * *", url: redis://127.0.0.1:6379/0}
              nested:
                - name: x
                  value: 1
                - name: y
              hex: 0x1F
              octal: 0o17
              neg: -3
              exp: 1.5e3
              str_num: "42"
            """)
        let d = try #require(doc["daemon"])
        #expect(d["name"]?.scalar == .string("superbot"))
        #expect(d["port"]?.scalar == .int(8080))
        #expect(d["ratio"]?.scalar == .double(0.5))
        #expect(d["on"]?.scalar == .bool(true))
        #expect(d["nothing"]?.scalar == .null)
        #expect(d["list"]?.sequence?.map(\.scalarText) == ["a", "b c", "it's"])
        let inline = try #require(d["inline"]?.sequence)
        #expect(inline.count == 4)
        #expect(inline[0].scalar == .int(1))
        #expect(inline[2].scalar == .string("three"))
        #expect(inline[3]["k"]?.scalarText == "v")
        #expect(d["flow"]?["cron"]?.scalarText == "0 2 * * *")
        #expect(d["flow"]?["url"]?.scalarText == "redis://127.0.0.1:6379/0")
        #expect(d["flow"]?["enabled"]?.scalar == .bool(false))
        let nested = try #require(d["nested"]?.sequence)
        #expect(nested[0]["value"]?.scalar == .int(1))
        #expect(nested[1]["name"]?.scalarText == "y")
        #expect(d["hex"]?.scalar == .int(31))
        #expect(d["octal"]?.scalar == .int(15))
        #expect(d["neg"]?.scalar == .int(-3))
        #expect(d["exp"]?.scalar == .double(1500))
        #expect(d["str_num"]?.scalar == .string("42"))
    }

    @Test func positionsPointAtTheNode() throws {
        let doc = try YAMLParser.parse("a:\n  b:   7\n  c: [1,\n      2]\n")
        let b = try #require(doc["a"]?["b"])
        #expect(b.line == 2 && b.column == 8)
        #expect(doc["a"]?["c"]?.sequence?[1].line == 4)
    }

    @Test func blockScalars() throws {
        let doc = try YAMLParser.parse(
            """
            lit: |
              line one
                indented
              line three
            fold: >-
              folded
              text

              para
            keep: |+
              x

            next: 1
            """)
        #expect(doc["lit"]?.scalarText == "line one\n  indented\nline three\n")
        #expect(doc["fold"]?.scalarText == "folded text\npara")
        #expect(doc["keep"]?.scalarText == "x\n\n")
        #expect(doc["next"]?.scalar == .int(1))
    }

    @Test func sequenceAtSameIndentAsKeyAndNestedSequences() throws {
        let doc = try YAMLParser.parse("days:\n- 1\n- 2\nmatrix:\n  - - a\n    - b\n  - [c]\n")
        #expect(doc["days"]?.sequence?.count == 2)
        #expect(doc["matrix"]?.sequence?[0].sequence?.map(\.scalarText) == ["a", "b"])
        #expect(doc["matrix"]?.sequence?[1].sequence?.first?.scalarText == "c")
    }

    @Test func quotedEscapesAndEmptyDocument() throws {
        let doc = try YAMLParser.parse("s: \"tab\\tnew\\nline \\u00e9\"\nempty: ''\n")
        #expect(doc["s"]?.scalarText == "tab\tnew\nline é")
        #expect(doc["empty"]?.scalar == .string(""))
        #expect(try YAMLParser.parse("# only a comment\n").mapping?.isEmpty == true)
        #expect(try YAMLParser.parse("---\na: 1\n")["a"]?.scalar == .int(1))
    }

    @Test(
        arguments: [
            ("a: &x 1\n", 1, 4, "anchors"),
            ("a: *x\n", 1, 4, "aliases"),
            ("a: !!str 1\n", 1, 4, "tags"),
            ("a: 1\n---\nb: 2\n", 2, 1, "several documents"),
            ("%YAML 1.2\na: 1\n", 1, 1, "directives"),
            ("a:\n\tb: 1\n", 2, 1, "tab"),
            ("a: [1, 2\n", 1, 4, "unterminated flow sequence"),
            ("a: \"open\n", 1, 4, "unterminated quoted"),
            ("a: 1\na: 2\n", 2, 1, "duplicate key 'a'"),
            ("a:\n  b: 1\n c: 2\n", 3, 2, "unexpected indentation"),
            ("a: b: c\n", 1, 5, "quote the value"),
            ("? complex\n", 1, 1, "complex mapping keys"),
            ("a: 1\n  b: 2\n", 2, 3, "unexpected indentation"),
            ("- a\nb: 1\n", 2, 1, "unexpected content"),
        ] as [(String, Int, Int, String)])
    func malformedInputNamesLineAndColumn(_ text: String, _ line: Int, _ column: Int, _ fragment: String) {
        do {
            _ = try YAMLParser.parse(text)
            Issue.record("expected an error for \(text.debugDescription)")
        } catch let error as YAMLError {
            #expect(error.line == line, "\(error)")
            #expect(error.column == column, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func coreSchemaResolution() {
        #expect(YAMLNode.resolve("TRUE") == .bool(true))
        #expect(YAMLNode.resolve("yes") == .string("yes"))  // YAML 1.2: not a boolean
        #expect(YAMLNode.resolve(".5") == .double(0.5))
        #expect(YAMLNode.resolve("1.") == .double(1))
        #expect(YAMLNode.resolve("-.inf") == .double(-.infinity))
        #expect(YAMLNode.resolve("09:00") == .string("09:00"))
        #expect(YAMLNode.resolve("1e") == .string("1e"))
    }

    /// The parser works on whole documents; feeding it every prefix must never crash, only succeed or throw.
    @Test func everyPrefixParsesOrThrowsCleanly() throws {
        let text =
            "daemon:\n  modules:\n    web: {command: webui, args: [\"--port\", \"8080\"]}\n  autostart: [web]\n  lit: |\n    x\n"
        var chars = ""
        for c in text {
            chars.append(c)
            _ = try? YAMLParser.parse(chars)
        }
        #expect(try YAMLParser.parse(text)["daemon"]?["autostart"]?.sequence?.count == 1)
    }
}

/// Found by `make fuzz`: thousands of `{` in a row exhausted the stack. Nesting is bounded.
struct YAMLNestingTests {
    @Test func nestingDeeperThanTheBoundIsAnErrorNotACrash() throws {
        let flow = String(repeating: "{a: ", count: 3000) + "1" + String(repeating: "}", count: 3000)
        #expect { try YAMLParser.parse("x: " + flow + "\n") } throws: { "\($0)".contains("nested more than 64 deep") }
        let block = (0..<200).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n") + " 1\n"
        #expect { try YAMLParser.parse(block) } throws: { "\($0)".contains("nested more than 64 deep") }
        let fine = (0..<60).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n") + " 1\n"
        #expect(throws: Never.self) { try YAMLParser.parse(fine) }
        // Found by `make fuzz`: a value expected at the end of the file trapped on an index.
        #expect(throws: YAMLError.self) { try YAMLParser.parse("-\t#a:\n\t\t \t") }
        let flowFine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(throws: Never.self) { try YAMLParser.parse("x: " + flowFine + "\n") }
    }
}
