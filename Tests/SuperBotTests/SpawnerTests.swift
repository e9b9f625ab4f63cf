import Glibc
import SuperBotTesting
import Testing

@testable import SystemKit

/// Both ways a module is started (posix_spawn, and clone3 into a cgroup v2 group) give the child
/// the same hygiene: nothing blocked or ignored from the parent, its own session, stdin on
/// /dev/null, no inherited descriptor, the requested directory.
@Suite(.serialized) struct SpawnerTests {
    @Test func posixSpawnGivesACleanChild() throws {
        try expectCleanChild { try Spawner.spawn($0) }
    }

    @Test func aChildBornInItsCgroupIsCleanAndAMemberFromTheStart() throws {
        guard let group = ModuleCgroup.make(runID: "spawntest\(getpid())", module: "child"), group.kind == .unified
        else { return }  // no writable cgroup v2 here: ContainmentTests cover the v1 and marker paths
        defer {
            group.remove()
            ModuleCgroup.removeRun(runID: "spawntest\(getpid())")
        }
        let fd = open(group.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(fd) }
        try expectCleanChild { request in
            let pid = try #require(try Spawner.spawn(request, intoCgroup: fd))
            #expect(group.members() == [pid])
            let line = try FileSystem.readString("/proc/\(pid)/cgroup").split(separator: "\n").first {
                $0.hasPrefix("0::")
            }
            #expect(line.map { group.path.hasSuffix(String($0.dropFirst(3))) } == true, "\(line ?? "none")")
            return pid
        }
        // The test process itself never entered the group.
        #expect(!group.members().contains(getpid()))
        // What failed in the child is named: here the working directory.
        var request = SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "1"], environment: [])
        request.workingDirectory = "/nonexistent-\(getpid())"
        do {
            _ = try Spawner.spawn(request, intoCgroup: fd)
            Issue.record("a child was spawned into a missing directory")
        } catch {
            #expect("\(error)".contains("chdir(/nonexistent-"), "\(error)")
        }
        request.workingDirectory = nil
        request.executable = "/nonexistent-program-\(getpid())"
        do {
            _ = try Spawner.spawn(request, intoCgroup: fd)
            Issue.record("a missing executable was spawned")
        } catch {
            #expect("\(error)".contains("execve(/nonexistent-program-"), "\(error)")
        }
        #expect(group.members().isEmpty)
    }

    @Test func killingTheGroupEndsEveryMemberHoweverItDetachedAndTheNextChildLives() throws {
        guard let group = ModuleCgroup.make(runID: "spawntest\(getpid())", module: "kill"), group.kind == .unified
        else { return }
        defer {
            group.remove()
            ModuleCgroup.removeRun(runID: "spawntest\(getpid())")
        }
        let request = SpawnRequest(
            executable: "/bin/sh", arguments: ["sh", "-c", "setsid -f sleep 1000; sleep 1000 & exec sleep 1000"],
            environment: ["PATH=/usr/bin:/bin"])
        let spawned = try group.spawn(request)
        #expect(spawned.inside)
        defer { _ = waitpid(spawned.pid, nil, 0) }
        #expect(waitUntil(5) { group.members().count == 3 }, "\(group.members())")
        let members = group.members()
        #expect(group.killAll() == 3)
        #expect(waitUntil(5) { group.members().isEmpty })
        for pid in members where pid != spawned.pid { #expect(waitUntil(5) { ProcStat.read(pid) == nil }) }
        // The group is used again, as for a restart (with `cgroup.kill` this kernel would kill
        // every child cloned into it from then on).
        let next = try group.spawn(
            SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "30"], environment: []))
        defer {
            kill(next.pid, SIGKILL)
            _ = waitpid(next.pid, nil, 0)
        }
        #expect(waitUntil(5) { ProcStat.executable(next.pid)?.hasSuffix("sleep") == true })
        Clock.sleep(0.1)
        #expect(group.members() == [next.pid])
        #expect(ProcStat.read(next.pid).map { !$0.isZombie } == true)
    }

    @Test func pidsAreReadAcrossPages() throws {
        let path = "/tmp/superbot-pids-\(getpid())"
        let pids = (1...3000).map { pid_t(100_000 + $0) }
        try FileSystem.writeAtomically(path, Array(pids.map { "\($0)\n" }.joined().utf8))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        #expect(ModuleCgroup.readPids(fd) == pids)
        #expect(ModuleCgroup.readPids(fd) == pids, "a second read starts from the top again")
    }

    private func expectCleanChild(_ spawn: (SpawnRequest) throws -> pid_t) throws {
        // The parent ignores SIGUSR2, blocks SIGUSR1 and holds a descriptor without CLOEXEC.
        let previous = signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, previous) }
        var block = sigset_t()
        var old = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &block, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let leaked = open("/dev/zero", O_RDONLY)
        defer { close(leaked) }
        var request = SpawnRequest(executable: "/bin/sleep", arguments: ["sleep", "30"], environment: [])
        request.workingDirectory = "/tmp"
        let pid = try spawn(request)
        defer {
            kill(pid, SIGKILL)
            _ = waitpid(pid, nil, 0)
        }
        #expect(waitUntil(5) { ProcStat.executable(pid)?.hasSuffix("sleep") == true })
        let status = try FileSystem.readString("/proc/\(pid)/status")
        #expect(field("SigBlk", status) == "0000000000000000")
        // Signals 32 and 33 are glibc's own (thread cancellation, setxid): sigaction refuses them,
        // so posix_spawn cannot reset them either; every other signal is at its default.
        let ignored = field("SigIgn", status).flatMap { UInt64($0, radix: 16) }
        #expect(ignored.map { $0 & ~UInt64(0x1_8000_0000) } == 0, "SigIgn \(ignored ?? 0)")
        #expect(ProcStat.read(pid)?.session == pid)
        #expect(FileSystem.readLink("/proc/\(pid)/fd/0") == "/dev/null")
        #expect(FileSystem.readLink("/proc/\(pid)/cwd") == "/tmp")
        #expect(FileSystem.listDirectory("/proc/\(pid)/fd").sorted() == ["0", "1", "2"])
    }

    private func field(_ name: String, _ status: String) -> String? {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .map { String($0.dropFirst(name.count + 1).drop { $0 == " " || $0 == "\t" }) }
    }
}
