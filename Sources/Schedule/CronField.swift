/// One of the five fields: its range, its names, and the parser for one field's text.
enum CronField: Int, CaseIterable, Sendable {
    case minute, hour, dayOfMonth, month, dayOfWeek

    var name: String {
        switch self {
        case .minute: return "minute"
        case .hour: return "hour"
        case .dayOfMonth: return "day-of-month"
        case .month: return "month"
        case .dayOfWeek: return "day-of-week"
        }
    }

    /// What a number may be written as (day-of-week accepts 7 for Sunday).
    var bounds: ClosedRange<Int> {
        switch self {
        case .minute: return 0...59
        case .hour: return 0...23
        case .dayOfMonth: return 1...31
        case .month: return 1...12
        case .dayOfWeek: return 0...7
        }
    }

    var names: [String] {
        switch self {
        case .month: return ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        case .dayOfWeek: return ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        default: return []
        }
    }

    var allBits: UInt64 {
        var bits: UInt64 = 0
        for value in bounds where !(self == .dayOfWeek && value == 7) { bits |= 1 << UInt64(value) }
        return bits
    }

    /// Parses one field: a comma-separated list of `*`, `*/S`, `N`, `A-B` and `A-B/S`.
    func parse(_ text: Substring, column: Int) throws -> (bits: UInt64, star: Bool) {
        var bits: UInt64 = 0
        var offset = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let at = column + offset
            offset += item.count + 1
            guard !item.isEmpty else {
                throw CronError(field: name, value: String(text), column: at, "empty list item (stray comma)")
            }
            bits |= try parseItem(item, column: at)
        }
        return (bits, text.first == "*")
    }

    private func parseItem(_ item: Substring, column: Int) throws -> UInt64 {
        func fail(_ message: String, _ value: Substring = item, at: Int = column) -> CronError {
            CronError(field: name, value: String(value), column: at, message)
        }
        var rangePart = item
        var step = 1
        if let slash = item.firstIndex(of: "/") {
            rangePart = item[..<slash]
            let stepText = item[item.index(after: slash)...]
            let stepColumn = column + rangePart.count + 1
            guard !stepText.isEmpty, stepText.allSatisfy({ $0.isASCII && $0.isNumber }), stepText.count <= 4,
                let value = Int(stepText)
            else { throw fail("the step must be a whole number, e.g. */15", stepText, at: stepColumn) }
            let span = bounds.upperBound - bounds.lowerBound - (self == .dayOfWeek ? 1 : 0)
            guard value >= 1, value <= span else {
                throw fail("the step must be between 1 and \(span)", stepText, at: stepColumn)
            }
            step = value
            guard rangePart == "*" || rangePart.contains("-") else {
                throw fail("a step needs '*' or a range before it (write \(rangePart)-\(bounds.upperBound)/\(value))")
            }
        }
        var low: Int
        var high: Int
        if rangePart == "*" {
            low = bounds.lowerBound
            high = self == .dayOfWeek ? 6 : bounds.upperBound
        } else if let dash = rangePart.firstIndex(of: "-") {
            let lowText = rangePart[..<dash]
            let highText = rangePart[rangePart.index(after: dash)...]
            low = try value(lowText, column: column)
            high = try value(highText, column: column + lowText.count + 1)
            guard low <= high else {
                throw fail("the range starts after it ends (\(low) > \(high)); ranges do not wrap around")
            }
        } else {
            low = try value(rangePart, column: column)
            high = low
        }
        var bits: UInt64 = 0
        for v in stride(from: low, through: high, by: step) {
            bits |= 1 << UInt64(self == .dayOfWeek && v == 7 ? 0 : v)
        }
        return bits
    }

    private func value(_ text: Substring, column: Int) throws -> Int {
        if let first = text.first, first.isLetter {
            if let index = names.firstIndex(of: text.lowercased()) {
                return index + (self == .month ? 1 : 0)
            }
            let hint = names.isEmpty ? "" : " (names: \(names.joined(separator: ", ")))"
            throw CronError(field: name, value: String(text), column: column, "not a number or a known name\(hint)")
        }
        guard !text.isEmpty, text.count <= 4, text.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(text) else {
            throw CronError(
                field: name, value: String(text), column: column,
                text.isEmpty ? "a number is missing" : "not a number (only digits, names, '*', ',', '-' and '/')")
        }
        guard bounds.contains(n) else {
            throw CronError(
                field: name, value: String(text), column: column,
                "out of range \(bounds.lowerBound)-\(bounds.upperBound)")
        }
        return n
    }
}
