import Glibc
import ModuleLog
import SuperBotTesting
import SystemKit
import Testing

/// The log writer's file side: whole lines only, rotation at line boundaries, keep and retention.
@Suite struct LogRotorTests {
    /// Every file of the log, oldest first (`path.1` … `path.<n>`, then `path`).
    func files(_ path: String) -> [String] { LogRotor.rotatedFiles(of: path).map(\.path) + [path] }

    func contents(_ path: String) -> [[UInt8]] { files(path).map { (try? FileSystem.readFile($0)) ?? [] } }

    func numbered(_ n: Int) -> [UInt8] { (1...n).flatMap { Array("line \($0)\n".utf8) } }

    @Test func byteByByteAndAllAtOnceWriteTheSameFilesAndNeverSplitALine() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let input = numbered(3000)
        var results: [[[UInt8]]] = []
        for (i, piece) in [1, input.count, 7, 4096].enumerated() {
            let path = "\(dir)/\(i)/m.log"
            let rotor = try LogRotor(.init(path: path, maxBytes: 1000, keep: 100, retentionDays: 0))
            var start = 0
            while start < input.count {
                rotor.feed(input[start..<min(input.count, start + piece)], now: 0)
                start += piece
            }
            results.append(contents(path))
            #expect(rotor.linesWritten == 3000)
        }
        #expect(results.allSatisfy { $0 == results[0] }, "the pieces the pipe gives change nothing")
        #expect(Array(results[0].joined()) == input, "every line once, in order")
        for file in results[0].dropLast() {
            #expect(file.count <= 1000 && file.last == 0x0A, "rotated at a line boundary, within max_bytes")
        }
        #expect(results[0].count > 20)
    }

    @Test func keepsTheNewestFilesOnly() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/m.log"
        let rotor = try LogRotor(.init(path: path, maxBytes: 100, keep: 3, retentionDays: 0))
        let input = numbered(200)
        rotor.feed(input[...], now: 0)
        #expect(LogRotor.rotatedFiles(of: path).count == 3)
        let kept = Array(contents(path).joined())
        #expect(
            !kept.isEmpty && Array(input.suffix(kept.count)) == kept, "the files kept are the newest lines, in order")
        #expect(rotor.rotations > 3)
    }

    @Test func anUnterminatedLastLineIsWrittenAtTheEnd() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/m.log"
        let rotor = try LogRotor(.init(path: path))
        rotor.feed(Array("one\ntw".utf8)[...], now: 0)
        #expect(try FileSystem.readString(path) == "one\n", "half a line waits")
        rotor.feed(Array("o\nthr".utf8)[...], now: 0)
        rotor.finish(now: 0)
        #expect(try FileSystem.readString(path) == "one\ntwo\nthr\n")
    }

    @Test func anOverlongLineIsCutIntoPiecesOfMaxLine() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/m.log"
        let rotor = try LogRotor(.init(path: path, maxLine: 10))
        rotor.feed(Array(String(repeating: "x", count: 25).utf8)[...], now: 0)
        rotor.feed(Array("\n".utf8)[...], now: 0)
        #expect(try FileSystem.readString(path) == "xxxxxxxxxx\nxxxxxxxxxx\nxxxxx\n")
    }

    @Test func timestampsPrefixEachLine() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/m.log"
        let rotor = try LogRotor(.init(path: path, timestamps: true))
        rotor.feed(Array("a\nb\n".utf8)[...], now: 1_764_597_600.25)
        #expect(try FileSystem.readString(path) == "2025-12-01T14:00:00.250Z a\n2025-12-01T14:00:00.250Z b\n")
    }

    @Test func rotatedFilesPastTheirRetentionAreRemoved() throws {
        let dir = temporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/m.log"
        let rotor = try LogRotor(.init(path: path, maxBytes: 10, keep: 5, retentionDays: 2))
        rotor.feed(Array("123456789\n".utf8)[...], now: 0)
        rotor.feed(Array("abcdefghi\n".utf8)[...], now: 0)
        #expect(FileSystem.exists(path + ".1"))
        // Make path.1 three days old, then rotate again: it has expired, path.2 has not.
        let now = Clock.wall()
        let old = timeval(tv_sec: Int(now) - 3 * 86_400, tv_usec: 0)
        var times = [old, old]
        #expect(utimes(path + ".1", &times) == 0)
        rotor.feed(Array("ABCDEFGHI\n".utf8)[...], now: now)
        #expect(!FileSystem.exists(path + ".1"), "expired")
        #expect(try FileSystem.readString(path + ".2") == "abcdefghi\n")
        #expect(try FileSystem.readString(path) == "ABCDEFGHI\n")
    }
}
