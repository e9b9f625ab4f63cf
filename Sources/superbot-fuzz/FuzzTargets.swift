import HTTP
import JSON
import MarketData
import RPC
import Redis
import Schedule
import YAML

/// The inputs from outside that have a parser of ours, one function each. A target takes any
/// bytes and must neither trap nor hang; whatever it accepts is exercised a little further.
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "yaml": yaml, "json": json, "rpc": rpc, "http-request": httpRequest, "http-response": httpResponse,
        "csv": csv, "cron": cron, "tzif": tzif, "resp": resp,
    ]

    static func text(_ bytes: [UInt8]) -> String? { String(validating: bytes, as: UTF8.self) }

    static func yaml(_ bytes: [UInt8]) {
        guard let text = text(bytes) else { return }
        _ = try? YAMLParser.parse(text)
    }

    static func json(_ bytes: [UInt8]) {
        // The relay's validator (eight bytes at a time in strings) accepts every object the parser
        // does. It may accept more: numbers out of range (`1e999`) are valid JSON text that the
        // parser refuses as a value.
        let parsed = try? JSON.parse(bytes)
        if parsed?.objectValue != nil {
            precondition(JSONScanner.forEachMember(bytes) { _, _ in }, "JSONScanner refused an object JSON.parse took")
        }
        guard let value = parsed else { return }
        // Whatever parses must serialize and parse back to itself.
        let again = try? JSON.parse(value.serializedBytes())
        precondition(again == value, "JSON round trip changed the value")
    }

    /// JSON-RPC lines: framed in pieces of every size the input suggests, then validated.
    static func rpc(_ bytes: [UInt8]) {
        var framer = LineFramer(maxBytes: 4096)
        let step = max(1, Int(bytes.first ?? 1))
        var index = 0
        while index < bytes.count {
            framer.append(bytes[index..<min(bytes.count, index + step)])
            index += step
            while let line = try? framer.next() { _ = RPCIncoming.parse(line) }
        }
    }

    static func httpRequest(_ bytes: [UInt8]) {
        var parser = HTTPParser(.request, maxHeadBytes: 4096, maxBodyBytes: 1 << 16)
        parser.append(bytes)
        while let request = try? parser.nextRequest() { _ = request }
    }

    static func httpResponse(_ bytes: [UInt8]) {
        var parser = HTTPParser(.response, maxHeadBytes: 4096, maxBodyBytes: 1 << 16)
        parser.append(bytes)
        _ = try? parser.nextResponse(atEOF: true)
    }

    static func csv(_ bytes: [UInt8]) {
        guard let text = text(bytes) else { return }
        let whole = Result { () throws(CSVError) in try OHLCVCSV.parse(text) }
        // Fed in two pieces, the streaming parser must agree with the whole text.
        var parser = OHLCVCSVParser()
        let split = Result { () throws(CSVError) -> [Bar] in
            try parser.feed(bytes[..<(bytes.count / 2)])
            try parser.feed(bytes[(bytes.count / 2)...])
            try parser.finish()
            return parser.bars
        }
        switch (whole, split) {
        case (.success(let a), .success(let b)): precondition(a == b, "CSV chunked differs from whole")
        case (.failure(let a), .failure(let b)): precondition(a == b, "CSV chunked error differs")
        default: preconditionFailure("CSV chunked and whole disagree on success")
        }
    }

    /// A reply stream all at once and byte by byte: the same values or the same error.
    static func resp(_ bytes: [UInt8]) {
        func drain(_ p: inout RESPParser) -> Result<[RESPValue], RESPParser.ProtocolError> {
            var out: [RESPValue] = []
            do {
                while let v = try p.next() { out.append(v) }
            } catch {
                return .failure(error)
            }
            return .success(out)
        }
        var whole = RESPParser()
        whole.append(bytes)
        let a = drain(&whole)
        var split = RESPParser()
        var b: Result<[RESPValue], RESPParser.ProtocolError> = .success([])
        for byte in bytes {
            split.append([byte])
            let more = drain(&split)
            switch (b, more) {
            case (.success(let x), .success(let y)): b = .success(x + y)
            case (.success, .failure): b = more
            default: break
            }
            if case .failure = b { break }
        }
        switch (a, b) {
        case (.success(let x), .success(let y)): precondition(x.count == y.count, "RESP byte by byte differs")
        case (.failure, .failure): break
        default: preconditionFailure("RESP whole and byte by byte disagree")
        }
    }

    static func cron(_ bytes: [UInt8]) {
        guard let text = text(bytes), let expression = try? CronExpression(parsing: text) else { return }
        let s = CronSchedule(expression, zone: .utc)
        if let next = s.next(after: 1_800_000_000) {
            precondition(next > 1_800_000_000 && expression.matches(CivilTime(seconds: next)), "next() is no match")
        }
    }

    static func tzif(_ bytes: [UInt8]) {
        guard let zone = try? ZoneInfo(name: "fuzz", tzif: bytes) else { return }
        for instant in [Int64(-2_000_000_000), 0, 1_800_000_000, 5_000_000_000] {
            _ = zone.instants(showing: instant)
            _ = zone.offset(at: instant)
        }
    }
}
