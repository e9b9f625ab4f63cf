import CShim
import Glibc

/// One reading of `/proc/PID/stat`: what the watchdog and re-adoption need.
public struct ProcStat: Equatable, Sendable {
    public var pid: pid_t
    public var state: Character
    public var ppid: pid_t
    public var pgrp: pid_t
    public var session: pid_t
    /// utime + stime, in clock ticks.
    public var cpuTicks: UInt64
    public var threads: Int
    /// Start time in clock ticks after boot: with the pid, it identifies a process across pid reuse.
    public var startTime: UInt64
    public var rssBytes: UInt64

    public var isZombie: Bool { state == "Z" || state == "X" }
    public var isStopped: Bool { state == "T" || state == "t" }

    public static let clockTicks = UInt64(sysconf(Int32(_SC_CLK_TCK)))
    public static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    /// One `read` into a buffer on the stack: the watchdog reads every process's stat each pass,
    /// so this path allocates nothing but the result. The kernel makes the stat line whole in the
    /// first read, so a read that leaves room in the buffer is the end (no second read for EOF).
    public static func read(_ pid: pid_t) -> ProcStat? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2048) { buffer in
            var count = 0
            while count < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n > 0 {
                    count += n
                    if count < buffer.count { break }
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            return parse(UnsafeBufferPointer(rebasing: buffer[0..<count]), pid: pid)
        }
    }

    public static func parse(_ bytes: [UInt8], pid: pid_t) -> ProcStat? {
        bytes.withUnsafeBufferPointer { parse($0, pid: pid) }
    }

    /// Parses the stat line; the command name sits in parentheses and may itself contain spaces or ')'.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, pid: pid_t) -> ProcStat? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")), close + 2 < bytes.count else { return nil }
        // Fields after the name, numbered from 0 (the state); only the ones used are kept.
        var fields = [UInt64](repeating: 0, count: 22)
        var state = UInt8(ascii: "?")
        var index = 0
        var value: UInt64 = 0
        var inField = false
        for i in (close + 2)..<bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: " ") || b == 0x0A {
                if inField {
                    if index < 22 { fields[index] = value }
                    index += 1
                    value = 0
                    inField = false
                }
                if index >= 22 { break }
                continue
            }
            if index == 0 && !inField { state = b }
            inField = true
            if b >= 0x30 && b <= 0x39 { value = value &* 10 &+ UInt64(b - 0x30) }
        }
        if inField && index < 22 {
            fields[index] = value
            index += 1
        }
        guard index >= 22 else { return nil }
        return ProcStat(
            pid: pid, state: Character(Unicode.Scalar(state)),
            ppid: pid_t(truncatingIfNeeded: fields[1]), pgrp: pid_t(truncatingIfNeeded: fields[2]),
            session: pid_t(truncatingIfNeeded: fields[3]),
            cpuTicks: fields[11] + fields[12], threads: Int(fields[17]), startTime: fields[19],
            rssBytes: fields[21] * pageSize)
    }

    public static func executable(_ pid: pid_t) -> String? { FileSystem.readLink("/proc/\(pid)/exe") }

    public static func openFileCount(_ pid: pid_t) -> Int { FileSystem.countEntries("/proc/\(pid)/fd") }
}

extension String {
    var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}

/// A snapshot of every process on the machine, to find the whole tree a module owns. The parent
/// and session indexes are built once, so finding each of a thousand modules' trees costs the
/// size of that tree, not a pass over every process.
public struct ProcessTable: Sendable {
    public let entries: [pid_t: ProcStat]
    private let children: [pid_t: [pid_t]]
    private let sessions: [pid_t: [pid_t]]

    public init(entries: [pid_t: ProcStat]) {
        self.entries = entries
        var children: [pid_t: [pid_t]] = [:]
        var sessions: [pid_t: [pid_t]] = [:]
        for stat in entries.values {
            children[stat.ppid, default: []].append(stat.pid)
            sessions[stat.session, default: []].append(stat.pid)
        }
        self.children = children
        self.sessions = sessions
    }

    public static func scan() -> ProcessTable {
        var entries: [pid_t: ProcStat] = [:]
        for name in FileSystem.listDirectory("/proc") {
            guard let pid = pid_t(name), let stat = ProcStat.read(pid) else { continue }
            entries[pid] = stat
        }
        return ProcessTable(entries: entries)
    }

    /// Every process in `root`'s session or descended from it, `root` excluded: the grandchildren too,
    /// including those that left the process group with setsid (our subreaper keeps them as our descendants).
    public func tree(of root: pid_t) -> [ProcStat] {
        var found: Set<pid_t> = []
        var stack = [root]
        while let pid = stack.popLast() {
            for child in children[pid] ?? [] where found.insert(child).inserted { stack.append(child) }
        }
        for pid in sessions[root] ?? [] where pid != root { found.insert(pid) }
        return found.compactMap { entries[$0] }
    }
}

public enum ProcessControl {
    /// Marks this process as a child subreaper so orphaned grandchildren are re-parented to it.
    public static func becomeSubreaper() throws {
        if sb_set_child_subreaper() != 0 { throw SystemError("prctl(PR_SET_CHILD_SUBREAPER)") }
    }

    /// A pidfd that becomes readable when `pid` exits; works for processes that are not our children.
    public static func openPidFD(_ pid: pid_t) throws -> Int32 {
        let fd = sb_pidfd_open(pid)
        if fd < 0 { throw SystemError("pidfd_open", detail: "\(pid)") }
        return fd
    }

    /// Raises the soft descriptor limit to the hard one, so hundreds of clients fit.
    public static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
