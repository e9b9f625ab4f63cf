/// Scans one inline value: a plain or quoted scalar, or a flow collection (`[…]`, `{…}`).
struct FlowScanner {
    let chars: [Character]
    let positions: [(Int, Int)]
    var index = 0
    /// Flow collections open right now: bounded, so a hostile file cannot exhaust the stack
    /// (found by `make fuzz`: thousands of `{` in a row).
    var depth = 0
    static let maxDepth = 64

    init(_ chars: [Character], positions: [(Int, Int)]) {
        self.chars = chars
        self.positions = positions
    }

    init(_ chars: [Character], line: Int, column: Int) {
        self.init(chars, positions: (0..<chars.count).map { (line, column + $0) })
    }

    var position: (Int, Int) {
        if index < positions.count { return positions[index] }
        guard let last = positions.last else { return (1, 1) }
        return (last.0, last.1 + 1)
    }

    func error(_ message: String) -> YAMLError {
        YAMLError(message: message, line: position.0, column: position.1)
    }

    mutating func skipSpaces() {
        while index < chars.count, chars[index] == " " || chars[index] == "\t" { index += 1 }
    }

    /// True when every bracket opened outside quotes is closed (decides whether to read more lines).
    static func isBalanced(_ chars: [Character]) -> Bool {
        var depth = 0
        var quote: Character?
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if q == "\"" && c == "\\" {
                    i += 2
                    continue
                }
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" && (i == 0 || chars[i - 1] == " ") {
                break
            } else if c == "[" || c == "{" {
                depth += 1
            } else if c == "]" || c == "}" {
                depth -= 1
            }
            i += 1
        }
        return depth <= 0
    }

    static func stripComment(_ chars: [Character]) -> [Character] {
        var quote: Character?
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if q == "\"" && c == "\\" {
                    i += 2
                    continue
                }
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" && (i == 0 || chars[i - 1] == " ") {
                return Array(chars[..<i])
            }
            i += 1
        }
        return chars
    }

    /// The whole value; only a comment may follow it.
    mutating func parseTopLevel() throws -> YAMLNode {
        skipSpaces()
        let node: YAMLNode
        if index < chars.count,
            chars[index] == "[" || chars[index] == "{" || chars[index] == "\"" || chars[index] == "'"
        {
            node = try parseFlowValue(inFlow: false)
        } else {
            node = try parseBlockPlain()
        }
        skipSpaces()
        if index < chars.count && chars[index] != "#" {
            throw error("unexpected '\(chars[index])' after the value")
        }
        return node
    }

    /// A plain scalar outside flow context: runs to a ` #` comment.
    mutating func parseBlockPlain() throws -> YAMLNode {
        let (line, column) = position
        if index < chars.count, "&*!|>%@`".contains(chars[index]) {
            if "&*!".contains(chars[index]) { throw unsupported(chars[index], line: line, column: column) }
            throw error("a plain value cannot start with '\(chars[index])'; quote it")
        }
        var text: [Character] = []
        while index < chars.count {
            let c = chars[index]
            if c == "#" && (text.last == " " || text.isEmpty) { break }
            if c == ":" && (index + 1 == chars.count || chars[index + 1] == " ") {
                throw error("':' followed by a space inside a value; quote the value")
            }
            text.append(c)
            index += 1
        }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return YAMLNode(.scalar(String(text), quoted: false), line: line, column: column)
    }

    mutating func parseFlowValue(inFlow: Bool) throws -> YAMLNode {
        skipSpaces()
        guard index < chars.count else { throw error("expected a value (is a ']' or '}' missing?)") }
        if chars[index] == "[" || chars[index] == "{" {
            guard depth < Self.maxDepth else {
                throw error("flow collections nested more than \(Self.maxDepth) deep")
            }
            depth += 1
            defer { depth -= 1 }
            return chars[index] == "[" ? try parseFlowSequence() : try parseFlowMapping()
        }
        switch chars[index] {
        case "\"", "'": return try parseQuoted()
        default: return try parseFlowPlain()
        }
    }

    mutating func parseFlowSequence() throws -> YAMLNode {
        let (line, column) = position
        index += 1
        var items: [YAMLNode] = []
        skipSpaces()
        if index < chars.count, chars[index] == "]" {
            index += 1
            return YAMLNode(.sequence([]), line: line, column: column)
        }
        while true {
            items.append(try parseFlowValue(inFlow: true))
            skipSpaces()
            guard index < chars.count else {
                throw YAMLError(message: "unterminated flow sequence (missing ']')", line: line, column: column)
            }
            if chars[index] == "," {
                index += 1
                skipSpaces()
                if index < chars.count, chars[index] == "]" {
                    index += 1
                    break
                }
                continue
            }
            if chars[index] == "]" {
                index += 1
                break
            }
            throw error("expected ',' or ']' in flow sequence")
        }
        return YAMLNode(.sequence(items), line: line, column: column)
    }

    mutating func parseFlowMapping() throws -> YAMLNode {
        let (line, column) = position
        index += 1
        var pairs: [YAMLNode.Pair] = []
        var seen: Set<String> = []
        skipSpaces()
        if index < chars.count, chars[index] == "}" {
            index += 1
            return YAMLNode(.mapping([]), line: line, column: column)
        }
        while true {
            skipSpaces()
            let key = try parseFlowValue(inFlow: true)
            if let text = key.scalarText, !seen.insert(text).inserted {
                throw YAMLError(message: "duplicate key '\(text)'", line: key.line, column: key.column)
            }
            skipSpaces()
            var value = YAMLNode(.scalar("", quoted: false), line: position.0, column: position.1)
            if index < chars.count, chars[index] == ":" {
                index += 1
                skipSpaces()
                if index < chars.count, chars[index] != "," && chars[index] != "}" {
                    value = try parseFlowValue(inFlow: true)
                }
            }
            pairs.append(YAMLNode.Pair(key: key, value: value))
            skipSpaces()
            guard index < chars.count else {
                throw YAMLError(message: "unterminated flow mapping (missing '}')", line: line, column: column)
            }
            if chars[index] == "," {
                index += 1
                skipSpaces()
                if index < chars.count, chars[index] == "}" {
                    index += 1
                    break
                }
                continue
            }
            if chars[index] == "}" {
                index += 1
                break
            }
            throw error("expected ',' or '}' in flow mapping")
        }
        return YAMLNode(.mapping(pairs), line: line, column: column)
    }

    /// A plain scalar inside `[…]` or `{…}`: ends at `,` `]` `}` or a `: ` separator.
    mutating func parseFlowPlain() throws -> YAMLNode {
        let (line, column) = position
        if "&*!".contains(chars[index]) { throw unsupported(chars[index], line: line, column: column) }
        var text: [Character] = []
        while index < chars.count {
            let c = chars[index]
            if c == "," || c == "]" || c == "}" || c == "[" || c == "{" { break }
            if c == ":" && (index + 1 == chars.count || " ,]}".contains(chars[index + 1])) { break }
            if c == "#" && text.last == " " { break }
            text.append(c)
            index += 1
        }
        while text.last == " " { text.removeLast() }
        if text.isEmpty { throw error("expected a value") }
        return YAMLNode(.scalar(String(text), quoted: false), line: line, column: column)
    }

    mutating func parseQuoted() throws -> YAMLNode {
        let (line, column) = position
        let quote = chars[index]
        index += 1
        var out = ""
        while true {
            guard index < chars.count else {
                throw YAMLError(message: "unterminated quoted string (missing \(quote))", line: line, column: column)
            }
            let c = chars[index]
            index += 1
            if c == quote {
                if quote == "'" && index < chars.count && chars[index] == "'" {
                    out.append("'")
                    index += 1
                    continue
                }
                return YAMLNode(.scalar(out, quoted: true), line: line, column: column)
            }
            if quote == "\"" && c == "\\" {
                guard index < chars.count else { throw error("unterminated escape") }
                let e = chars[index]
                index += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\\": out.append("\\")
                case "\"": out.append("\"")
                case "/": out.append("/")
                case " ": out.append(" ")
                case "x", "u", "U":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard index + width <= chars.count, let v = UInt32(String(chars[index..<index + width]), radix: 16),
                        let u = Unicode.Scalar(v)
                    else {
                        throw error("invalid \\\(e) escape")
                    }
                    out.unicodeScalars.append(u)
                    index += width
                default: throw error("invalid escape '\\\(e)'")
                }
                continue
            }
            out.append(c)
        }
    }
}
