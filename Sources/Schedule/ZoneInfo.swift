import SystemKit

/// An IANA time zone read from a TZif file (RFC 8536, versions 1–3): its transitions, and the
/// POSIX TZ footer for instants past the last one. Read by us rather than through a calendar
/// library, so DST behaviour is exactly what the system's tz database says.
public struct ZoneInfo: Equatable, Hashable, Sendable {
    public struct LocalTimeType: Equatable, Hashable, Sendable {
        public var offset: Int
        public var isDaylight: Bool
        public var abbreviation: String
    }

    public let name: String
    public let transitions: [Int64]
    /// Index into `types` for each transition.
    public let transitionTypes: [UInt8]
    public let types: [LocalTimeType]
    public let footer: POSIXTimeZone?

    public static let utc = ZoneInfo(
        name: "UTC", transitions: [], transitionTypes: [],
        types: [LocalTimeType(offset: 0, isDaylight: false, abbreviation: "UTC")], footer: nil)

    init(name: String, transitions: [Int64], transitionTypes: [UInt8], types: [LocalTimeType], footer: POSIXTimeZone?) {
        self.name = name
        self.transitions = transitions
        self.transitionTypes = transitionTypes
        self.types = types
        self.footer = footer
    }

    public struct FormatError: Error, CustomStringConvertible {
        public let name: String
        public let reason: String
        public var description: String { "time zone file for '\(name)' is not valid TZif: \(reason)" }
    }

    /// Parses TZif bytes; any inconsistency (counts past the end, bad indices) is an error, never a trap.
    public init(name: String, tzif bytes: [UInt8]) throws {
        func fail(_ reason: String) -> FormatError { FormatError(name: name, reason: reason) }
        var reader = Reader(bytes: bytes)
        var header = try reader.header().orThrow(fail("truncated or missing 'TZif' header"))
        var timeSize = 4
        if header.version >= 2 {
            guard reader.skip(header.v1DataLength(timeSize: 4)) else { throw fail("truncated version 1 data block") }
            header = try reader.header().orThrow(fail("missing the version 2 header"))
            timeSize = 8
        }
        guard header.typeCount >= 1, header.typeCount <= 256, header.charCount >= 1 || header.typeCount == 0,
            header.timeCount <= 100_000, header.charCount <= 100_000, header.leapCount <= 10_000,
            header.isStdCount == 0 || header.isStdCount == header.typeCount,
            header.isUTCCount == 0 || header.isUTCCount == header.typeCount
        else { throw fail("inconsistent counts in the header") }
        var times: [Int64] = []
        times.reserveCapacity(header.timeCount)
        for _ in 0..<header.timeCount {
            times.append(try reader.integer(size: timeSize).orThrow(fail("truncated transition times")))
        }
        for i in times.indices.dropFirst() where times[i] <= times[i - 1] {
            throw fail("transition times are not ascending")
        }
        var indices: [UInt8] = []
        for _ in 0..<header.timeCount {
            let index = try reader.byte().orThrow(fail("truncated transition types"))
            guard Int(index) < header.typeCount else { throw fail("transition type \(index) out of range") }
            indices.append(index)
        }
        var raw: [(offset: Int, dst: Bool, abbr: Int)] = []
        for _ in 0..<header.typeCount {
            let off = try reader.integer(size: 4).orThrow(fail("truncated local time types"))
            let dst = try reader.byte().orThrow(fail("truncated local time types"))
            let abbr = try reader.byte().orThrow(fail("truncated local time types"))
            guard abs(off) < 26 * 3600, dst <= 1, Int(abbr) < header.charCount else {
                throw fail("local time type out of range")
            }
            raw.append((Int(off), dst == 1, Int(abbr)))
        }
        let chars = Array(try reader.bytes(header.charCount).orThrow(fail("truncated abbreviations")))
        let skip = header.leapCount * (timeSize + 4) + header.isStdCount + header.isUTCCount
        guard reader.skip(skip) else { throw fail("truncated leap second or indicator data") }
        let localTypes = raw.map { t in
            let end = chars[t.abbr...].firstIndex(of: 0) ?? chars.count
            return LocalTimeType(
                offset: t.offset, isDaylight: t.dst, abbreviation: String(decoding: chars[t.abbr..<end], as: UTF8.self))
        }
        var footer: POSIXTimeZone?
        if header.version >= 2 {
            let rest = Array(reader.remaining)
            guard rest.first == 0x0A, let close = rest.dropFirst().firstIndex(of: 0x0A) else {
                throw fail("missing the TZ string footer")
            }
            let text = String(decoding: rest[1..<close], as: UTF8.self)
            if !text.isEmpty {
                do { footer = try POSIXTimeZone(parsing: text) } catch { throw fail("\(error)") }
            }
        }
        var allTimes = times
        var allIndices = indices
        var allTypes = localTypes
        if let footer { Self.extend(&allTimes, &allIndices, &allTypes, with: footer) }
        self.init(name: name, transitions: allTimes, transitionTypes: allIndices, types: allTypes, footer: footer)
    }

    /// Appends the footer rule's changes up to 2200 to the transition table (what zic's "fat"
    /// files hold), so that lookups in the coming decades are a binary search, not a rule
    /// evaluation; past 2200 the rule is evaluated.
    static let tabulatedUntilYear = 2200

    private static func extend(
        _ times: inout [Int64], _ indices: inout [UInt8], _ types: inout [LocalTimeType], with footer: POSIXTimeZone
    ) {
        guard let d = footer.daylight else { return }
        func index(_ offset: Int, _ isDaylight: Bool, _ abbreviation: String) -> UInt8? {
            if let i = types.firstIndex(where: { $0.offset == offset && $0.isDaylight == isDaylight }) {
                return UInt8(i)
            }
            guard types.count < 255 else { return nil }
            types.append(LocalTimeType(offset: offset, isDaylight: isDaylight, abbreviation: abbreviation))
            return UInt8(types.count - 1)
        }
        guard let standard = index(footer.offset, false, footer.abbreviation),
            let daylight = index(d.offset, true, d.abbreviation)
        else { return }
        let first = times.last.map { CivilTime(seconds: $0).year } ?? 1970
        guard first < tabulatedUntilYear else { return }
        for year in first...tabulatedUntilYear {
            guard let c = footer.changes(in: year) else { continue }
            let pair =
                c.start < c.end ? [(c.start, daylight), (c.end, standard)] : [(c.end, standard), (c.start, daylight)]
            for (at, type) in pair where at > (times.last ?? .min) {
                times.append(at)
                indices.append(type)
            }
        }
    }

    /// The period `instant` (UTC seconds) falls in.
    public func period(containing instant: Int64) -> ZonePeriod {
        guard let last = transitions.last else {
            if let footer { return footer.period(containing: instant) }
            return period(type: types[0], start: .min, end: .max)
        }
        if instant < transitions[0] { return period(type: types[0], start: .min, end: transitions[0]) }
        if instant >= last {
            guard let footer else { return period(type: types[Int(transitionTypes.last!)], start: last, end: .max) }
            var p = footer.period(containing: instant)
            if p.start < last {
                p.start = last
            }
            return p
        }
        var low = 0
        var high = transitions.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if transitions[mid] <= instant { low = mid } else { high = mid - 1 }
        }
        return period(type: types[Int(transitionTypes[low])], start: transitions[low], end: transitions[low + 1])
    }

    private func period(type: LocalTimeType, start: Int64, end: Int64) -> ZonePeriod {
        ZonePeriod(start: start, end: end, offset: type.offset, isDaylight: type.isDaylight)
    }

    public func offset(at instant: Int64) -> Int { period(containing: instant).offset }

    /// The local (zone-less) clock reading at `instant`.
    public func local(_ instant: Int64) -> CivilTime { CivilTime(seconds: instant + Int64(offset(at: instant))) }

    /// The UTC instants showing `local` on the wall clock: none in a skipped hour, two in a repeated one.
    public func instants(showing local: Int64) -> [Int64] {
        var out: [Int64] = []
        var p = period(containing: local - 27 * 3600)
        while true {
            let u = local - Int64(p.offset)
            if u >= p.start && u < p.end { out.append(u) }
            guard p.end != .max, p.end <= local + 27 * 3600 else { break }
            p = period(containing: p.end)
        }
        return out
    }

    private struct Header {
        var version: Int
        var isUTCCount, isStdCount, leapCount, timeCount, typeCount, charCount: Int

        func v1DataLength(timeSize: Int) -> Int {
            timeCount * (timeSize + 1) + typeCount * 6 + charCount + leapCount * (timeSize + 4) + isStdCount
                + isUTCCount
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        var remaining: ArraySlice<UInt8> { bytes[min(index, bytes.count)...] }

        mutating func skip(_ n: Int) -> Bool {
            guard n >= 0, bytes.count - index >= n else { return false }
            index += n
            return true
        }

        mutating func byte() -> UInt8? {
            guard index < bytes.count else { return nil }
            index += 1
            return bytes[index - 1]
        }

        mutating func bytes(_ n: Int) -> ArraySlice<UInt8>? {
            guard n >= 0, bytes.count - index >= n else { return nil }
            index += n
            return bytes[(index - n)..<index]
        }

        /// A big-endian signed integer of 4 or 8 bytes.
        mutating func integer(size: Int) -> Int64? {
            guard let raw = bytes(size) else { return nil }
            var value: UInt64 = 0
            for b in raw { value = value << 8 | UInt64(b) }
            return size == 4 ? Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: value))) : Int64(bitPattern: value)
        }

        mutating func header() -> Header? {
            guard let magic = bytes(4), Array(magic) == Array("TZif".utf8), let version = byte(), skip(15) else {
                return nil
            }
            var counts: [Int] = []
            for _ in 0..<6 {
                guard let n = integer(size: 4), n >= 0 else { return nil }
                counts.append(Int(n))
            }
            let v: Int
            switch version {
            case 0: v = 1
            case UInt8(ascii: "2"): v = 2
            case UInt8(ascii: "3"): v = 3
            case UInt8(ascii: "4"): v = 4
            default: return nil
            }
            return Header(
                version: v, isUTCCount: counts[0], isStdCount: counts[1], leapCount: counts[2], timeCount: counts[3],
                typeCount: counts[4], charCount: counts[5])
        }
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
