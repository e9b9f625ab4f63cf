/// Why a byte stream is not HTTP/1.1 we accept; `status` is what a server answers before closing.
public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: Int
    public let message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { message }
}

/// An incremental HTTP/1.x parser for either side of a connection: bytes go in as they arrive
/// (one at a time or many messages at once, pipelined), complete messages come out. Bodies are
/// framed by Content-Length or chunked transfer coding; a response with neither runs to EOF.
public struct HTTPParser: Sendable {
    public enum Kind: Sendable { case request, response }

    public let kind: Kind
    public let maxHeadBytes: Int
    public let maxBodyBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(_ kind: Kind, maxHeadBytes: Int = 16 << 10, maxBodyBytes: Int = 8 << 20) {
        self.kind = kind
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Bytes received but not yet part of a returned message.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func nextRequest() throws(HTTPParseError) -> HTTPRequest? {
        guard let (head, body) = try next(atEOF: false, bodyless: false) else { return nil }
        return HTTPRequest(
            method: head.start.method, target: head.start.target, headers: head.headers, body: body,
            minorVersion: head.start.minorVersion)
    }

    /// `atEOF`: the peer closed; a response without a length ends here. `toHEAD`: the answer to a
    /// HEAD request, which has no body whatever its headers say.
    public mutating func nextResponse(atEOF: Bool = false, toHEAD: Bool = false) throws(HTTPParseError) -> HTTPResponse?
    {
        guard let (head, body) = try next(atEOF: atEOF, bodyless: toHEAD) else { return nil }
        return HTTPResponse(status: head.start.status, headers: head.headers, body: body)
    }

    /// The request or status line, read once from its bytes.
    private struct StartLine {
        var method = ""
        var target = ""
        var status = 0
        var minorVersion = 1
    }

    /// Checks and splits the request or status line as soon as the head is complete (before any body).
    private func startLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> StartLine {
        let space = UInt8(ascii: " ")
        var out = StartLine()
        switch kind {
        case .request:
            let parts = line.split(separator: space, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty,
                parts[0].allSatisfy({ ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || $0 == UInt8(ascii: "-") }
                ),
                parts[1].first == UInt8(ascii: "/") || parts[1].elementsEqual([UInt8(ascii: "*")])
            else {
                throw HTTPParseError(
                    400, "malformed request line '\(String(decoding: line.prefix(80), as: UTF8.self))'")
            }
            out.minorVersion = try version(parts[2])
            out.method = String(decoding: parts[0], as: UTF8.self)
            out.target = String(decoding: parts[1], as: UTF8.self)
        case .response:
            let parts = line.split(separator: space, maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[1].count == 3, parts[1].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let status = Int(String(decoding: parts[1], as: UTF8.self)), (100...599).contains(status)
            else {
                throw HTTPParseError(502, "malformed status line '\(String(decoding: line.prefix(80), as: UTF8.self))'")
            }
            out.minorVersion = try version(parts[0])
            out.status = status
        }
        return out
    }

    private func version(_ text: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        if text.elementsEqual("HTTP/1.1".utf8) { return 1 }
        if text.elementsEqual("HTTP/1.0".utf8) { return 0 }
        throw HTTPParseError(505, "unsupported protocol version '\(String(decoding: text.prefix(20), as: UTF8.self))'")
    }

    private struct Head {
        var start: StartLine
        var headers: HTTPHeaders
    }

    private mutating func next(atEOF: Bool, bodyless: Bool) throws(HTTPParseError) -> (Head, [UInt8])? {
        // Skip the empty lines RFC 9112 allows before a message.
        while start < buffer.count, buffer[start] == 0x0D || buffer[start] == 0x0A {
            if buffer[start] == 0x0D, start + 1 >= buffer.count { return nil }
            start += 1
        }
        guard let (lines, headEnd) = try headLines() else { return nil }
        guard let first = lines.first else { return nil }
        let line = try startLine(first)
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw HTTPParseError(400, "malformed header line '\(String(decoding: line.prefix(80), as: UTF8.self))'")
            }
            let name = line[line.startIndex..<colon]
            guard name.allSatisfy(HTTPParser.isTokenByte) else {
                throw HTTPParseError(400, "invalid header name '\(String(decoding: name.prefix(80), as: UTF8.self))'")
            }
            let value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
            var trimmed = value[...]
            while let last = trimmed.last, last == 0x20 || last == 0x09 { trimmed = trimmed.dropLast() }
            headers.add(String(decoding: name, as: UTF8.self), String(decoding: trimmed, as: UTF8.self))
        }
        let head = Head(start: line, headers: headers)
        let status = line.status
        let statusLess =
            bodyless || (kind == .response && (status == 204 || status == 304 || (100..<200).contains(status)))
        if statusLess {
            // No body whatever the headers say (RFC 9112 6.3, rule 1).
            start = headEnd
            return (head, [])
        }

        let lengths = headers.values("content-length")
        if let te = headers["transfer-encoding"] {
            // RFC 9112 6.3: both framings at once is how requests are smuggled; refuse rather than guess.
            guard lengths.isEmpty else { throw HTTPParseError(400, "both content-length and transfer-encoding sent") }
            guard headers.values("transfer-encoding").count == 1, te.lowercased() == "chunked" else {
                throw HTTPParseError(501, "unsupported transfer-encoding '\(te)'")
            }
            guard let (body, end) = try chunkedBody(from: headEnd) else { return nil }
            start = end
            return (head, body)
        }
        if let lengthText = lengths.first {
            guard lengths.allSatisfy({ $0 == lengthText }) else {
                throw HTTPParseError(
                    400,
                    "conflicting content-length values \(lengths.prefix(4).map { "'\($0.prefix(20))'" }.joined(separator: ", "))"
                )
            }
            guard let length = Int(lengthText), length >= 0, lengthText.allSatisfy(\.isNumber) else {
                throw HTTPParseError(400, "invalid content-length '\(lengthText.prefix(40))'")
            }
            guard length <= maxBodyBytes else {
                throw HTTPParseError(413, "body of \(length) bytes exceeds the limit of \(maxBodyBytes)")
            }
            guard buffer.count - headEnd >= length else { return nil }
            start = headEnd + length
            return (head, Array(buffer[headEnd..<start]))
        }
        if kind == .request {
            start = headEnd
            return (head, [])
        }
        // A response without framing runs until the connection closes.
        guard atEOF else {
            guard buffer.count - headEnd <= maxBodyBytes else {
                throw HTTPParseError(413, "body exceeds the limit of \(maxBodyBytes) bytes")
            }
            return nil
        }
        let body = Array(buffer[headEnd...])
        start = buffer.count
        return (head, body)
    }

    /// The head's lines (without line ends) and where the body starts, once the blank line arrived.
    private func headLines() throws(HTTPParseError) -> ([ArraySlice<UInt8>], Int)? {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = start
        var i = start
        while i < buffer.count {
            if buffer[i] == 0x0A {
                var end = i
                if end > lineStart, buffer[end - 1] == 0x0D { end -= 1 }
                if end == lineStart { return (lines, i + 1) }
                lines.append(buffer[lineStart..<end])
                lineStart = i + 1
            } else if buffer[i] == 0 {
                throw HTTPParseError(400, "NUL byte in the message head")
            }
            i += 1
            if i - start > maxHeadBytes { throw HTTPParseError(431, "message head exceeds \(maxHeadBytes) bytes") }
        }
        return nil
    }

    private func chunkedBody(from offset: Int) throws(HTTPParseError) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var i = offset
        while true {
            guard let lineEnd = buffer[i...].firstIndex(of: 0x0A) else {
                if buffer.count - i > 1024 { throw HTTPParseError(400, "chunk size line too long") }
                return nil
            }
            var sizeText = buffer[i..<lineEnd]
            if sizeText.last == 0x0D { sizeText = sizeText.dropLast() }
            if let semicolon = sizeText.firstIndex(of: UInt8(ascii: ";")) { sizeText = sizeText[..<semicolon] }
            // Hex digits only: `Int(_:radix:)` would also take a sign, and `-1` (found by `make
            // fuzz`) made a negative range that trapped.
            guard !sizeText.isEmpty, sizeText.count <= 15, sizeText.allSatisfy(Self.isHexDigit),
                let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
            else {
                throw HTTPParseError(400, "malformed chunk size")
            }
            i = lineEnd + 1
            if size == 0 {
                // Trailer fields, then a blank line.
                while true {
                    guard let end = buffer[i...].firstIndex(of: 0x0A) else { return nil }
                    let blank = end == i || (end == i + 1 && buffer[i] == 0x0D)
                    i = end + 1
                    if blank { return (body, i) }
                }
            }
            guard body.count + size <= maxBodyBytes else {
                throw HTTPParseError(413, "body exceeds the limit of \(maxBodyBytes) bytes")
            }
            guard buffer.count - i >= size + 1 else { return nil }
            body.append(contentsOf: buffer[i..<(i + size)])
            i += size
            if buffer[i] == 0x0D {
                guard i + 1 < buffer.count else { return nil }
                i += 1
            }
            guard buffer[i] == 0x0A else { throw HTTPParseError(400, "chunk data not followed by a line end") }
            i += 1
        }
    }

    static func isHexDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }
}
