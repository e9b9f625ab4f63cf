import Glibc
import ModuleLog
import SuperBotTesting
import SystemKit
import Testing

/// Module output goes through a log writer process (`superbot-log`): it rotates, it survives a
/// daemon `kill -9`, and no line is lost, doubled or split.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ModuleLogTests {
    /// `1\n2\n…\n<n>\n`: what the counter module writes.
    static func numbers(_ range: ClosedRange<Int>) -> [UInt8] { range.flatMap { Array("\($0)\n".utf8) } }

    /// Every file of a module's log, oldest first (`.1` … `.<n>`, then the log itself).
    static func logFiles(_ path: String) -> [String] { LogRotor.rotatedFiles(of: path).map(\.path) + [path] }

    static func totalBytes(_ path: String) -> Int {
        logFiles(path).reduce(0) { $0 + (FileSystem.size($1)?.size ?? 0) }
    }

    @Test func aMillionNumberedLinesSurviveRotationsAndADaemonKill9() throws {
        // 50 bursts of 20,000 lines, 50 ms apart: the daemon dies and comes back mid-stream.
        let h = try Harness(
            """
            daemon:
              modules:
                counter:
                  command: 'i=0; while [ $i -lt 50 ]; do seq $((i*20000+1)) $(((i+1)*20000)); sleep 0.05; i=$((i+1)); done; exec sleep 100000'
                  shell: true
                  start_seconds: 0
                  log_max_bytes: 262144
                  log_keep: 100
              autostart: [counter]
            """)
        defer { h.cleanup() }
        try h.startDaemon()
        let log = h.dir + "/logs/counter.log"
        let expected = Self.numbers(1...1_000_000)
        #expect(waitUntil(30) { Self.totalBytes(log) > 700_000 })
        let writers = h.logWriters()
        #expect(writers.count == 1, "one writer for the module")
        h.killDaemonHard()
        let whileDown = Self.totalBytes(log)
        // With no daemon, the module still writes and the writer still writes it down.
        #expect(waitUntil(10) { Self.totalBytes(log) > whileDown + 200_000 }, "the writer kept writing")
        try h.startDaemon()
        #expect(h.logWriters() == writers, "the new daemon adopted the writer, no second one")
        #expect(waitUntil(60) { Self.totalBytes(log) >= expected.count })
        let files = Self.logFiles(log)
        let written = try files.flatMap { try FileSystem.readFile($0) }
        #expect(written.count == expected.count && written == expected, "every line exactly once, in order, whole")
        #expect(files.count > 20, "rotated (\(files.count) files)")
        for file in files.dropLast() {
            let size = FileSystem.size(file)?.size ?? 0
            #expect(size <= 262_144 && size > 200_000, "\(file): \(size) bytes")
        }
        #expect(h.stopDaemon() == 0)
        #expect(h.logWriters().isEmpty && h.ownedProcesses().isEmpty, "daemon stop leaves no writer behind")
    }

    /// A reload that changes the log settings hands the pipe to a new writer: the old one
    /// drains it first, so the old lines are all there and the new ones follow the new settings.
    @Test func aReloadWithNewLogSettingsLosesNoLine() throws {
        func config(timestamps: Bool) -> String {
            """
            daemon:
              modules:
                ticker:
                  command: 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.01; done'
                  shell: true
                  start_seconds: 0
                  log_timestamps: \(timestamps)
              autostart: [ticker]
            """
        }
        let h = try Harness(config(timestamps: false))
        defer { h.cleanup() }
        try h.startDaemon()
        let log = h.dir + "/logs/ticker.log"
        func lines() -> [Substring] {
            ((try? FileSystem.readString(log)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast()
        }
        #expect(waitUntil(10) { lines().count >= 30 })
        let writer = h.logWriters()
        try h.writeConfig(config(timestamps: true))
        #expect(h.cli(["daemon", "reload"]).code == 0)
        #expect(
            waitUntil(10) { lines().last?.contains("Z ") == true && lines().filter { $0.contains("Z ") }.count >= 30 })
        #expect(h.logWriters().count == 1 && h.logWriters() != writer, "a new writer took the pipe")
        let all = lines()
        let plain = all.prefix { !$0.contains("Z ") }
        let stamped = all.dropFirst(plain.count)
        #expect(
            stamped.allSatisfy { $0.split(separator: " ").count == 2 && $0.hasPrefix("20") },
            "stamped from the switch on")
        // The old module's lines 1…k with no gap (its last ones may already be stamped: the new
        // writer took over before the module restarted), then the new module's 1…m.
        let numbers = all.map { $0.split(separator: " ").last.flatMap { Int($0) } ?? -1 }
        let restart = try #require(numbers.dropFirst().firstIndex(of: 1))
        #expect(
            numbers[..<restart] == Array(1...restart)[...], "the old module's lines: \(numbers[..<restart].suffix(5))")
        #expect(numbers[restart...] == Array(1...(numbers.count - restart))[...], "the new module's lines")
        #expect(plain.count >= 30)
    }

    /// A writer killed while its module writes is started again by the watchdog; the lines
    /// written meanwhile waited in the pipe (the daemon holds it open), so none is lost.
    @Test func aKilledWriterIsReplacedAndNoLineIsLost() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                ticker:
                  command: 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.005; done'
                  shell: true
                  start_seconds: 0
              autostart: [ticker]
              watchdog: {check_interval: 0.2}
            """)
        defer { h.cleanup() }
        try h.startDaemon()
        let log = h.dir + "/logs/ticker.log"
        func numbers() -> [Int] {
            ((try? FileSystem.readString(log)) ?? "").split(separator: "\n").compactMap { Int($0) }
        }
        #expect(waitUntil(10) { numbers().count >= 20 })
        let first = try #require(h.logWriters().first)
        kill(first, SIGKILL)
        #expect(waitUntil(10) { h.logWriters().count == 1 && h.logWriters() != [first] }, "a new writer")
        let seen = numbers().count
        #expect(waitUntil(10) { numbers().count >= seen + 50 })
        let all = numbers()
        #expect(all == Array(1...all.count), "no line lost or doubled across the writer's death")
    }

    @Test func logsFollowReadsEveryLineAcrossRotations() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                counter:
                  command: 'seq 1 50000; exec sleep 100000'
                  shell: true
                  start_seconds: 0
                  log_max_bytes: 16384
                  log_keep: 100
              autostart: []
            """)
        defer { h.cleanup() }
        try h.startDaemon()
        let out = h.dir + "/follow.out"
        let follower = try Spawner.spawn(
            SpawnRequest(
                executable: Harness.binary("superbot-cli"),
                arguments: ["superbot-cli", "--socket", h.socketPath, "logs", "counter", "-n", "0", "-f"],
                environment: Environment.all(), workingDirectory: h.dir, outputPath: out))
        defer {
            kill(follower, SIGKILL)
            _ = Harness.waitForExit(follower, timeout: 5)
        }
        // The follower is attached before the module writes its first line.
        #expect(waitUntil(10) { (try? h.call("monitoring.metrics"))?["logs.followers"]?.intValue == 1 })
        #expect(h.cli(["start", "counter"]).code == 0)
        let expected = Self.numbers(1...50000)
        #expect(waitUntil(30) { (FileSystem.size(out)?.size ?? 0) >= expected.count })
        let followed = try FileSystem.readFile(out)
        #expect(followed == expected, "followed \(followed.count) of \(expected.count) bytes")
        #expect(Self.logFiles(h.dir + "/logs/counter.log").count > 10, "the log rotated meanwhile")
    }
}
