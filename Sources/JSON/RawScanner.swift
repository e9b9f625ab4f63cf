/// Validates JSON text over raw memory for the relay's hot path: no bounds checks per byte, no
/// reference counting, nothing built. It accepts exactly what `JSON.parse` accepts, except that
/// UTF-8 is checked separately (`JSONScanner.isValidUTF8`).
struct RawScanner {
    let p: UnsafePointer<UInt8>
    let end: Int
    var i: Int
    let maxDepth: Int

    @inline(__always)
    mutating func skipWhitespace() {
        while i < end {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    /// At a `"`: moves past the string.
    mutating func string() -> Bool {
        i += 1
        while true {
            skipPlainBytes()
            guard i < end else { return false }
            let c = p[i]
            if c == 0x22 {
                i += 1
                return true
            }
            if c < 0x20 { return false }
            if c == 0x5C {
                guard i + 1 < end else { return false }
                let e = p[i + 1]
                if e == 0x75 {
                    guard let high = hex4(at: i + 2) else { return false }
                    i += 6
                    if high >= 0xD800 && high < 0xDC00 {
                        guard i + 1 < end, p[i] == 0x5C, p[i + 1] == 0x75, let low = hex4(at: i + 2),
                            low >= 0xDC00 && low < 0xE000
                        else { return false }
                        i += 6
                    } else if high >= 0xDC00 && high < 0xE000 {
                        return false
                    }
                    continue
                }
                guard
                    e == 0x22 || e == 0x5C || e == 0x2F || e == 0x62 || e == 0x66 || e == 0x6E || e == 0x72 || e == 0x74
                else { return false }
                i += 2
                continue
            }
            i += 1
        }
    }

    /// Moves past string bytes that need no second look (all but a quote, a backslash or a
    /// control), eight at a time. The lowest flagged byte of a word is exact: borrows run upward.
    @inline(__always)
    private mutating func skipPlainBytes() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= end {
            let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            let quote = w ^ (ones &* 0x22)
            let backslash = w ^ (ones &* 0x5C)
            let flagged =
                ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (w &- ones &* 0x20) & ~w) & highs
            if flagged != 0 {
                i += flagged.trailingZeroBitCount >> 3
                return
            }
            i += 8
        }
    }

    private func hex4(at start: Int) -> UInt32? {
        guard start + 4 <= end else { return nil }
        var v: UInt32 = 0
        for k in start..<(start + 4) {
            let c = p[k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    @inline(__always)
    private func digit(_ k: Int) -> Bool { k < end && p[k] >= 0x30 && p[k] <= 0x39 }

    mutating func number() -> Bool {
        if p[i] == 0x2D { i += 1 }
        guard digit(i) else { return false }
        if p[i] == 0x30 {
            i += 1
            if digit(i) { return false }
        } else {
            while digit(i) { i += 1 }
        }
        if i < end && p[i] == 0x2E {
            i += 1
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        if i < end && (p[i] == 0x65 || p[i] == 0x45) {
            i += 1
            if i < end && (p[i] == 0x2B || p[i] == 0x2D) { i += 1 }
            guard digit(i) else { return false }
            while digit(i) { i += 1 }
        }
        return true
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= end else { return false }
        for k in 0..<n where p[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    mutating func value(depth: Int) -> Bool {
        guard i < end, depth <= maxDepth else { return false }
        switch p[i] {
        case 0x7B:  // {
            i += 1
            skipWhitespace()
            if i < end && p[i] == 0x7D {
                i += 1
                return true
            }
            while true {
                skipWhitespace()
                guard i < end, p[i] == 0x22, string() else { return false }
                skipWhitespace()
                guard i < end, p[i] == 0x3A else { return false }
                i += 1
                skipWhitespace()
                guard value(depth: depth + 1) else { return false }
                skipWhitespace()
                guard i < end else { return false }
                if p[i] == 0x2C {
                    i += 1
                    continue
                }
                if p[i] == 0x7D {
                    i += 1
                    return true
                }
                return false
            }
        case 0x5B:  // [
            i += 1
            skipWhitespace()
            if i < end && p[i] == 0x5D {
                i += 1
                return true
            }
            while true {
                skipWhitespace()
                guard value(depth: depth + 1) else { return false }
                skipWhitespace()
                guard i < end else { return false }
                if p[i] == 0x2C {
                    i += 1
                    continue
                }
                if p[i] == 0x5D {
                    i += 1
                    return true
                }
                return false
            }
        case 0x22: return string()
        case 0x74: return literal("true")
        case 0x66: return literal("false")
        case 0x6E: return literal("null")
        default: return number()
        }
    }
}
