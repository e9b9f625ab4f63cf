/// Bus topics and subscription patterns (DESIGN.md, Event bus): dot-separated segments of
/// letters, digits, `-` and `_`. In a pattern `*` matches exactly one segment and `>` — last
/// only — one or more trailing segments.
public enum Topic {
    public static let maxLength = 256
    public static let maxSegments = 16

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Checks a topic to publish on (no wildcards). The common case is one pass over the bytes;
    /// only a bad topic pays for the detailed message.
    public static func validate(_ topic: String) throws {
        var count = 0
        var segments = 1
        var segmentLength = 0
        var valid = true
        for byte in topic.utf8 {
            count += 1
            if byte == UInt8(ascii: ".") {
                if segmentLength == 0 {
                    valid = false
                    break
                }
                segments += 1
                segmentLength = 0
            } else if isSegmentByte(byte) {
                segmentLength += 1
            } else {
                valid = false
                break
            }
        }
        if valid && segmentLength > 0 && count <= maxLength && segments <= maxSegments { return }
        _ = try Self.segments(topic, what: "topic", wildcards: false)
        throw Invalid(description: "invalid topic '\(topic)'")
    }

    /// Checks a subscription pattern; returns its segments.
    @discardableResult
    public static func validatePattern(_ pattern: String) throws -> [Substring] {
        try segments(pattern, what: "pattern", wildcards: true)
    }

    static func segments(_ text: String, what: String, wildcards: Bool) throws -> [Substring] {
        guard !text.isEmpty else { throw Invalid(description: "empty \(what)") }
        guard text.utf8.count <= maxLength else { throw Invalid(description: "\(what) longer than \(maxLength) bytes") }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= maxSegments else {
            throw Invalid(description: "\(what) '\(text)' has more than \(maxSegments) segments")
        }
        for (i, part) in parts.enumerated() {
            if part.isEmpty {
                throw Invalid(description: "\(what) '\(text)' has an empty segment (leading, trailing or double '.')")
            }
            if part == "*" || part == ">" {
                guard wildcards else {
                    throw Invalid(
                        description:
                            "topic '\(text)' contains the wildcard '\(part)'; wildcards are for subscriptions, publish on a concrete topic"
                    )
                }
                if part == ">" && i != parts.count - 1 {
                    throw Invalid(description: "pattern '\(text)': '>' may only be the last segment")
                }
                continue
            }
            for byte in part.utf8 where !isSegmentByte(byte) {
                throw Invalid(
                    description:
                        "\(what) '\(text)': character '\(Unicode.Scalar(byte))' is not allowed (use letters, digits, '-', '_')"
                )
            }
        }
        return parts
    }

    @inline(__always)
    static func isSegmentByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
    }

    /// Whether `topic` matches `pattern` (both already valid): the reference the trie is tested against.
    public static func matches(_ topic: String, pattern: String) -> Bool {
        let t = topic.split(separator: ".")
        let p = pattern.split(separator: ".")
        for (i, segment) in p.enumerated() {
            if segment == ">" { return t.count > i }
            if i >= t.count { return false }
            if segment != "*" && segment != t[i] { return false }
        }
        return t.count == p.count
    }
}
