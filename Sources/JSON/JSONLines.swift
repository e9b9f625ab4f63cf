/// Reading a JSON Lines file (a journal): complete lines only, each with its 1-based number
/// for error messages; empty lines are skipped. What follows the last newline is a line torn
/// by a crash mid-write, which never counted: its start is returned, so the caller can cut it
/// off or ignore it.
public enum JSONLines {
    @discardableResult
    public static func forEach(
        in bytes: [UInt8], _ body: (_ number: Int, _ line: ArraySlice<UInt8>) throws -> Void
    ) rethrows -> Int {
        var lineStart = 0
        var lineNumber = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            lineNumber += 1
            defer { lineStart = i + 1 }
            if i == lineStart { continue }
            try body(lineNumber, bytes[lineStart..<i])
        }
        return lineStart
    }
}
