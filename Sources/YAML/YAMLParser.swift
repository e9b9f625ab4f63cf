/// Parses the YAML subset SuperBot's configs use: block and flow mappings and sequences, plain and
/// quoted scalars, block scalars (`|`, `>`), comments. Anchors, aliases, tags, directives and
/// several documents are refused with a position, never silently misread.
public struct YAMLParser {
    struct Line {
        var number: Int
        var indent: Int
        /// Text after the indentation, without the line break.
        var text: Substring
        var isBlank: Bool {
            let t = text.drop { $0 == " " || $0 == "\t" }
            return t.isEmpty || t.first == "#"
        }
    }

    var lines: [Line]
    var cursor = 0
    /// Block collections open right now, bounded like flow ones (`FlowScanner.maxDepth`).
    var depth = 0

    public static func parse(_ text: String) throws -> YAMLNode {
        var parser = try YAMLParser(text)
        return try parser.parseDocument()
    }

    init(_ text: String) throws {
        var lines: [Line] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let rawLine = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let indent = rawLine.prefix { $0 == " " }.count
            let rest = rawLine.dropFirst(indent)
            if rest.first == "\t" && !rest.allSatisfy({ $0 == " " || $0 == "\t" }) {
                throw YAMLError(
                    message: "tab used for indentation; indent with spaces", line: number, column: indent + 1)
            }
            lines.append(Line(number: number, indent: indent, text: rest))
        }
        self.lines = lines
    }

    func isDocumentMarker(_ line: Line) -> Bool {
        line.indent == 0
            && (line.text == "---" || line.text.hasPrefix("--- ") || line.text == "..." || line.text.hasPrefix("... "))
    }

    mutating func skipBlank() {
        while cursor < lines.count && lines[cursor].isBlank { cursor += 1 }
    }

    mutating func parseDocument() throws -> YAMLNode {
        skipBlank()
        if cursor < lines.count {
            let line = lines[cursor]
            if line.indent == 0 && line.text.hasPrefix("%") {
                throw YAMLError(message: "YAML directives are not supported", line: line.number, column: 1)
            }
            if line.indent == 0 && (line.text == "---" || line.text.hasPrefix("--- ")) {
                let rest = line.text.dropFirst(3).drop { $0 == " " }
                if !rest.isEmpty && rest.first != "#" {
                    throw YAMLError(
                        message: "content after '---' is not supported; start the document on the next line",
                        line: line.number, column: 5)
                }
                cursor += 1
                skipBlank()
            }
        }
        guard cursor < lines.count else { return YAMLNode(.mapping([]), line: 1, column: 1) }
        let root = try parseNode(minIndent: 0)
        skipBlank()
        if cursor < lines.count {
            let line = lines[cursor]
            if isDocumentMarker(line) {
                throw YAMLError(
                    message: "several documents in one file are not supported", line: line.number, column: 1)
            }
            throw YAMLError(
                message: "unexpected content (check the indentation)", line: line.number, column: line.indent + 1)
        }
        return root
    }

    /// Parses the block node starting at the current line, which must be indented at least `minIndent`.
    mutating func parseNode(minIndent: Int) throws -> YAMLNode {
        skipBlank()
        // Found by `make fuzz` (`-\t#a:` then blank lines): a value expected where the file ends.
        guard cursor < lines.count else {
            throw YAMLError(
                message: "expected a value, found the end of the file", line: lines.last?.number ?? 1, column: 1)
        }
        let line = lines[cursor]
        if line.indent < minIndent {
            throw YAMLError(message: "expected an indented value", line: line.number, column: line.indent + 1)
        }
        guard depth < FlowScanner.maxDepth else {
            throw YAMLError(
                message: "collections nested more than \(FlowScanner.maxDepth) deep", line: line.number,
                column: line.indent + 1)
        }
        depth += 1
        defer { depth -= 1 }
        if isSequenceEntry(line.text) { return try parseSequence(indent: line.indent) }
        if try mappingColon(in: line.text, line: line) != nil { return try parseMapping(indent: line.indent) }
        cursor += 1
        return try parseInline(line.text, line: line.number, column: line.indent + 1, continuation: line.indent)
    }

    func isSequenceEntry(_ text: Substring) -> Bool { text == "-" || text.hasPrefix("- ") || text.hasPrefix("-\t") }

    /// The offset of the `:` that makes this line a mapping entry, outside quotes and flow brackets.
    func mappingColon(in text: Substring, line: Line) throws -> Int? {
        let chars = Array(text)
        if let first = chars.first {
            if first == "?" && (chars.count == 1 || chars[1] == " ") {
                throw YAMLError(
                    message: "complex mapping keys ('?') are not supported", line: line.number, column: line.indent + 1)
            }
            if first == "[" || first == "{" { return nil }
        }
        var i = 0
        if let q = chars.first, q == "\"" || q == "'" {
            i = 1
            while i < chars.count {
                if q == "\"" && chars[i] == "\\" {
                    i += 2
                    continue
                }
                if chars[i] == q {
                    if q == "'" && i + 1 < chars.count && chars[i + 1] == "'" {
                        i += 2
                        continue
                    }
                    break
                }
                i += 1
            }
            i += 1
            while i < chars.count && chars[i] == " " { i += 1 }
            if i < chars.count && chars[i] == ":" && (i + 1 == chars.count || chars[i + 1] == " ") { return i }
            return nil
        }
        while i < chars.count {
            if chars[i] == "#" && i > 0 && chars[i - 1] == " " { return nil }
            if chars[i] == ":" && (i + 1 == chars.count || chars[i + 1] == " " || chars[i + 1] == "\t") { return i }
            i += 1
        }
        return nil
    }

    mutating func parseMapping(indent: Int) throws -> YAMLNode {
        let first = lines[cursor]
        var pairs: [YAMLNode.Pair] = []
        var seen: [String: Int] = [:]
        while true {
            skipBlank()
            guard cursor < lines.count else { break }
            let line = lines[cursor]
            if line.indent < indent || isDocumentMarker(line) { break }
            if line.indent > indent {
                throw YAMLError(message: "unexpected indentation", line: line.number, column: line.indent + 1)
            }
            if isSequenceEntry(line.text) {
                throw YAMLError(
                    message: "a sequence entry where a mapping key was expected", line: line.number,
                    column: line.indent + 1)
            }
            guard let colon = try mappingColon(in: line.text, line: line) else {
                throw YAMLError(message: "expected 'key: value'", line: line.number, column: line.indent + 1)
            }
            let keyText = line.text.prefix(colon)
            let key = try parseKey(keyText, line: line)
            if let text = key.scalarText {
                if let previous = seen[text] {
                    throw YAMLError(
                        message: "duplicate key '\(text)' (first defined on line \(previous))", line: line.number,
                        column: line.indent + 1)
                }
                seen[text] = line.number
            }
            let afterColon = line.text.dropFirst(colon + 1)
            let valueText = afterColon.drop { $0 == " " || $0 == "\t" }
            let valueColumn = line.indent + 1 + colon + 1 + (afterColon.count - valueText.count)
            cursor += 1
            let value: YAMLNode
            if valueText.isEmpty || valueText.first == "#" {
                value = try parseNestedValue(
                    parentIndent: indent, line: line, column: valueColumn, allowSameIndentSequence: true)
            } else if valueText.first == "|" || valueText.first == ">" {
                value = try parseBlockScalar(
                    header: valueText, parentIndent: indent, line: line.number, column: valueColumn)
            } else {
                value = try parseInline(valueText, line: line.number, column: valueColumn, continuation: indent)
            }
            pairs.append(YAMLNode.Pair(key: key, value: value))
        }
        return YAMLNode(.mapping(pairs), line: first.number, column: indent + 1)
    }

    /// The value of `key:` with nothing after the colon: an indented block, or null.
    mutating func parseNestedValue(parentIndent: Int, line: Line, column: Int, allowSameIndentSequence: Bool) throws
        -> YAMLNode
    {
        skipBlank()
        if cursor < lines.count {
            let next = lines[cursor]
            if next.indent > parentIndent
                || (allowSameIndentSequence && next.indent == parentIndent && isSequenceEntry(next.text))
            {
                return try parseNode(minIndent: next.indent)
            }
        }
        return YAMLNode(.scalar("", quoted: false), line: line.number, column: column)
    }

    func parseKey(_ text: Substring, line: Line) throws -> YAMLNode {
        let trimmed = text.reversed().drop { $0 == " " }.reversed()
        let key = String(trimmed)
        if let first = key.first, first == "&" || first == "*" || first == "!" {
            throw unsupported(first, line: line.number, column: line.indent + 1)
        }
        if key.first == "\"" || key.first == "'" {
            var scanner = FlowScanner(Array(key), line: line.number, column: line.indent + 1)
            let node = try scanner.parseQuoted()
            return node
        }
        return YAMLNode(.scalar(key, quoted: false), line: line.number, column: line.indent + 1)
    }

    mutating func parseSequence(indent: Int) throws -> YAMLNode {
        let first = lines[cursor]
        var items: [YAMLNode] = []
        while true {
            skipBlank()
            guard cursor < lines.count else { break }
            let line = lines[cursor]
            if line.indent < indent || isDocumentMarker(line) { break }
            if line.indent > indent {
                throw YAMLError(message: "unexpected indentation", line: line.number, column: line.indent + 1)
            }
            guard isSequenceEntry(line.text) else { break }
            let rest = line.text.dropFirst(1).drop { $0 == " " }
            let restIndent = line.indent + (line.text.count - rest.count)
            if rest.isEmpty || rest.first == "#" {
                cursor += 1
                items.append(
                    try parseNestedValue(
                        parentIndent: indent, line: line, column: line.indent + 2, allowSameIndentSequence: false))
            } else if try isSequenceEntry(rest)
                || mappingColon(in: rest, line: Line(number: line.number, indent: restIndent, text: rest)) != nil
            {
                // "- key: value" or "- - x": the rest of the line opens a nested block at its own column.
                lines[cursor] = Line(number: line.number, indent: restIndent, text: rest)
                items.append(try parseNode(minIndent: restIndent))
            } else if rest.first == "|" || rest.first == ">" {
                cursor += 1
                items.append(
                    try parseBlockScalar(header: rest, parentIndent: indent, line: line.number, column: restIndent + 1))
            } else {
                cursor += 1
                items.append(try parseInline(rest, line: line.number, column: restIndent + 1, continuation: indent))
            }
        }
        return YAMLNode(.sequence(items), line: first.number, column: indent + 1)
    }

    /// A scalar or flow collection written after a key or dash. Flow collections may continue on
    /// following lines that are indented more than `continuation`.
    mutating func parseInline(_ text: Substring, line: Int, column: Int, continuation: Int) throws -> YAMLNode {
        var chars = Array(text)
        var positions = (0..<chars.count).map { (line, column + $0) }
        if let first = chars.first, first == "[" || first == "{" {
            while !FlowScanner.isBalanced(chars), cursor < lines.count,
                lines[cursor].indent > continuation || lines[cursor].isBlank
            {
                let next = lines[cursor]
                cursor += 1
                chars.append(" ")
                positions.append((next.number, next.indent))
                let stripped = FlowScanner.stripComment(Array(next.text))
                chars += stripped
                positions += (0..<stripped.count).map { (next.number, next.indent + 1 + $0) }
            }
        }
        var scanner = FlowScanner(chars, positions: positions)
        return try scanner.parseTopLevel()
    }

    mutating func parseBlockScalar(header: Substring, parentIndent: Int, line: Int, column: Int) throws -> YAMLNode {
        let folded = header.first == ">"
        var chomp: Character = " "
        var explicitIndent: Int?
        for c in header.dropFirst() {
            if c == "-" || c == "+" {
                chomp = c
            } else if let d = c.wholeNumberValue, d > 0 {
                explicitIndent = d
            } else if c == " " || c == "#" {
                break
            } else {
                throw YAMLError(message: "invalid block scalar header '\(header)'", line: line, column: column)
            }
        }
        var contentIndent = explicitIndent.map { parentIndent + $0 }
        var raw: [Substring] = []
        while cursor < lines.count {
            let l = lines[cursor]
            let blank = l.text.allSatisfy { $0 == " " }
            if blank {
                raw.append("")
                cursor += 1
                continue
            }
            if contentIndent == nil {
                if l.indent <= parentIndent { break }
                contentIndent = l.indent
            }
            if l.indent < contentIndent! { break }
            raw.append(Substring(String(repeating: " ", count: l.indent - contentIndent!)) + l.text)
            cursor += 1
        }
        var trailingBlank = 0
        while let last = raw.last, last.isEmpty {
            raw.removeLast()
            trailingBlank += 1
        }
        var text = ""
        if folded {
            // A single line break folds to a space; each blank line stands for one "\n";
            // more-indented lines keep their breaks.
            for (i, piece) in raw.enumerated() {
                if piece.isEmpty {
                    text += "\n"
                    continue
                }
                if i > 0 && !raw[i - 1].isEmpty {
                    text += (piece.first == " " || raw[i - 1].first == " ") ? "\n" : " "
                }
                text += piece
            }
        } else {
            text = raw.joined(separator: "\n")
        }
        switch chomp {
        case "-": break
        case "+": text += raw.isEmpty ? "" : "\n" + String(repeating: "\n", count: trailingBlank)
        default: if !raw.isEmpty { text += "\n" }
        }
        return YAMLNode(.scalar(text, quoted: true), line: line, column: column)
    }
}

func unsupported(_ c: Character, line: Int, column: Int) -> YAMLError {
    let what = c == "&" ? "anchors ('&')" : c == "*" ? "aliases ('*')" : "tags ('!')"
    return YAMLError(message: "\(what) are not supported; write the value out in full", line: line, column: column)
}
