import Glibc
import Testing

@testable import SystemKit

@Suite struct SystemKitTests {
    @Test func terminationStatusDecoding() {
        #expect(TerminationStatus(waitStatus: 3 << 8) == .exited(3))
        #expect(TerminationStatus(waitStatus: 9) == .signaled(9))
        #expect(TerminationStatus(waitStatus: 15 | 0x80) == .signaled(15))  // core dump flag
        #expect(TerminationStatus.signaled(9).description == "killed by signal 9 (SIGKILL)")
    }

    @Test func procStatParsesNamesWithSpacesAndParens() throws {
        let line =
            "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 5 0 12345 1000000 250 18446744073709551615\n"
        let stat = try #require(ProcStat.parse(Array(line.utf8), pid: 42))
        #expect(stat.state == "S" && stat.ppid == 1 && stat.session == 42)
        #expect(stat.cpuTicks == 10 && stat.threads == 5 && stat.startTime == 12345)
        #expect(stat.rssBytes == 250 * ProcStat.pageSize)
        #expect(ProcStat.parse(Array("1 (x) S 1".utf8), pid: 1) == nil)
    }

    @Test func readsItsOwnProcessEntry() throws {
        let me = try #require(ProcStat.read(getpid()))
        #expect(me.threads >= 1 && me.rssBytes > 0 && me.startTime > 0)
        #expect(ProcStat.executable(getpid()) != nil)
    }

    @Test func iso8601AndDays() {
        #expect(Clock.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(Clock.iso8601(1_795_000_000.5) == "2026-11-18T11:06:40.500Z")
        #expect(Clock.utcDay(1_795_000_000) == "20261118")
    }

    @Test func signalNames() {
        #expect(Signals.number("SIGTERM") == 15 && Signals.number("kill") == 9 && Signals.number("2") == 2)
        #expect(Signals.number("NOPE") == nil)
    }

    @Test func atomicWriteAndRead() throws {
        let dir = "/tmp/sbk-\(getpid())-\(Int(Clock.monotonic() * 1000))"
        try FileSystem.makeDirectories(dir + "/a/b")
        defer { for name in FileSystem.listDirectory(dir + "/a/b") { unlink(dir + "/a/b/" + name) } }
        try FileSystem.writeAtomically(dir + "/a/b/f", Array("hello".utf8))
        #expect(try FileSystem.readString(dir + "/a/b/f") == "hello")
        #expect(FileSystem.listDirectory(dir + "/a/b") == ["f"])
    }
}

struct ProcessMarkerTests {
    @Test func aMarkerBelongsToItsModuleAndRunOrToAnOlderDaemonOnTheSameSocket() {
        let ours = ProcessMarker(runID: "0123456789abcdef", module: "web", socket: "/srv/.superbot/superbot.sock")
        #expect(ours.belongs(to: "web", runID: "0123456789abcdef", socket: "/elsewhere"))
        #expect(!ours.belongs(to: "api", runID: "0123456789abcdef", socket: "/srv/.superbot/superbot.sock"))
        #expect(!ours.belongs(to: "web", runID: "fedcba9876543210", socket: "/srv/.superbot/superbot.sock"))
        // Started by a daemon from before run ids: recognised by the socket it was given.
        let older = ProcessMarker(runID: "", module: "web", socket: "/srv/.superbot/superbot.sock")
        #expect(older.belongs(to: "web", runID: "0123456789abcdef", socket: "/srv/.superbot/superbot.sock"))
        #expect(!older.belongs(to: "web", runID: "0123456789abcdef", socket: "/other/superbot.sock"))
    }

    @Test func theMarkerIsReadFromProcEnviron() throws {
        let env = ["SUPERBOT_MODULE=web", "SUPERBOT_RUN_ID=0123456789abcdef", "SUPERBOT_SOCKET=/srv/s.sock"]
        let child = try Spawner.spawn(
            SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "30"], environment: env))
        defer {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
        // The environment is readable once the child has exec'd sleep.
        var marker: ProcessMarker?
        for _ in 0..<200 where marker == nil {
            marker = ProcessMarker.read(child)
            if marker == nil { usleep(5000) }
        }
        #expect(marker == ProcessMarker(runID: "0123456789abcdef", module: "web", socket: "/srv/s.sock"))
        let unmarked = try Spawner.spawn(
            SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "30"], environment: ["PATH=/bin"]))
        defer {
            kill(unmarked, SIGKILL)
            var status: Int32 = 0
            waitpid(unmarked, &status, 0)
        }
        usleep(50_000)
        #expect(ProcessMarker.read(unmarked) == nil)
        #expect(ProcessMarker.read(999_999_999) == nil)
    }
}
