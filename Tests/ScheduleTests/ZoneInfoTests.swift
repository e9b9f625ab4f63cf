import Glibc
import Schedule
import SuperBotTesting
import SystemKit
import Testing

/// Our TZif reader against the system's own `zdump`, and against damaged files.
struct ZoneInfoTests {
    static let zones = ["Europe/Istanbul", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]

    /// Every transition zdump reports from 1900 to 2100 (past the files' last transition, where the
    /// POSIX footer rules): the offset just before and at each one is the one we compute.
    @Test(arguments: zones) func offsetsAgreeWithZdump(_ name: String) throws {
        let z = try zone(name)
        let lines = try run("/usr/bin/zdump", ["-v", "-c", "1900,2100", name])
        var checked = 0
        for line in lines.split(separator: "\n") {
            guard let utc = Self.zdumpUTC(line),
                let gmtoff = line.split(separator: " ").last?.split(separator: "=").last,
                let expected = Int(gmtoff)
            else { continue }
            #expect(z.offset(at: utc) == expected, "\(name) at \(ISO8601.utc(utc)): \(line)")
            checked += 1
        }
        if name != "UTC" { #expect(checked > 100) }
    }

    @Test func footerRulesInstantsPastTheLastTransition() throws {
        let berlin = try zone("Europe/Berlin")
        #expect(berlin.footer?.daylight != nil)
        #expect(berlin.offset(at: at("2090-07-01T00:00:00Z")) == 7200)
        #expect(berlin.offset(at: at("2090-12-01T00:00:00Z")) == 3600)
        // Last Sunday of March 2090 is the 26th: 01:00 UTC.
        #expect(berlin.offset(at: at("2090-03-26T00:59:59Z")) == 3600)
        #expect(berlin.offset(at: at("2090-03-26T01:00:00Z")) == 7200)
        let sydney = try zone("Australia/Sydney")
        #expect(sydney.offset(at: at("2090-01-01T00:00:00Z")) == 11 * 3600)
        #expect(sydney.offset(at: at("2090-07-01T00:00:00Z")) == 10 * 3600)
    }

    @Test func posixStrings() throws {
        let ny = try POSIXTimeZone(parsing: "EST5EDT,M3.2.0,M11.1.0")
        #expect(ny.offset == -18_000 && ny.daylight?.offset == -14_400)
        let odd = try POSIXTimeZone(parsing: "<+0330>-3:30<+0430>,J79/24,J263/24")
        #expect(odd.offset == 12_600 && odd.abbreviation == "+0330")
        let v3 = try POSIXTimeZone(parsing: "<-02>2<-01>,M3.5.0/-1,M10.5.0/0")
        #expect(v3.daylight?.start.time == -3600)
        #expect(try POSIXTimeZone(parsing: "UTC0").daylight == nil)
        for bad in ["", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0", "EST5EDT,M3.2.0,M11.1.0x", "<EST5"] {
            #expect(throws: POSIXTimeZone.ParseError.self, "\(bad)") { try POSIXTimeZone(parsing: bad) }
        }
    }

    /// Truncated at every length and with bytes flipped: an error or a zone, never a trap.
    @Test func damagedFilesAreRefusedNotTrapped() throws {
        let bytes = try FileSystem.readFile("/usr/share/zoneinfo/America/New_York")
        for length in 0..<bytes.count {
            _ = try? ZoneInfo(name: "x", tzif: Array(bytes[0..<length]))
        }
        #expect(throws: ZoneInfo.FormatError.self) {
            try ZoneInfo(name: "x", tzif: Array(bytes[0..<(bytes.count / 2)]))
        }
        var rng = SplitMix(seed: 3)
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<4 {
                mutated[Int(rng.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let z = try? ZoneInfo(name: "x", tzif: mutated) {
                _ = z.offset(at: at("2026-06-01T00:00:00Z"))
                _ = z.instants(showing: at("2026-03-08T02:30:00Z"))
            }
        }
        #expect(throws: ZoneInfo.FormatError.self) { try ZoneInfo(name: "x", tzif: Array("TZif2".utf8)) }
    }

    @Test func unknownZoneSuggestsAndPathsAreRefused() {
        #expect {
            try ZoneDirectory().zone(named: "Europe/Istambul")
        } throws: { ($0 as? ZoneDirectory.UnknownZone)?.suggestion == "Europe/Istanbul" }
        #expect {
            try ZoneDirectory().zone(named: "istanbul")
        } throws: { ($0 as? ZoneDirectory.UnknownZone)?.suggestion?.hasSuffix("/Istanbul") == true }
        for bad in ["../etc/passwd", "/etc/localtime", "Europe", ""] {
            #expect(throws: ZoneDirectory.UnknownZone.self, "\(bad)") { try ZoneDirectory().zone(named: bad) }
        }
    }

    /// `Sun Mar  8 06:59:59 2026 UT` in a zdump -v line.
    static func zdumpUTC(_ line: Substring) -> Int64? {
        let fields = line.split(separator: " ")
        guard fields.count > 6, let ut = fields.firstIndex(of: "UT"), ut >= 5 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(fields[ut - 4])), let day = Int(fields[ut - 3]),
            let year = Int(fields[ut - 1])
        else { return nil }
        let hms = fields[ut - 2].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        return CivilTime(year: year, month: month + 1, day: day, hour: hms[0], minute: hms[1], second: hms[2]).seconds
    }
}

/// Runs a program and returns its output.
func run(_ path: String, _ arguments: [String]) throws -> String { try runProgram(path, arguments) }
