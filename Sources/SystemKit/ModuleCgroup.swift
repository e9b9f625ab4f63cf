import Glibc

/// A module's cgroup, where the machine lets us make one. Membership is inherited by every
/// descendant however it detaches (setsid, double forks), so the group is the module's whole
/// set of processes. Two shapes, the first the machine allows:
///
/// - **cgroup v2** (`<cgroup2 mount><daemon's own group>/superbot-<run id>/<module>`): the module
///   is born inside its group (clone3 with CLONE_INTO_CGROUP), so no process of it is ever
///   outside, and killing the members in rounds ends them all;
/// - **v1 `pids` + `freezer`** (`/sys/fs/cgroup/{pids,freezer}/superbot-<run id>/<module>`): the
///   child is moved in just after the spawn (a child it forks in that moment is found by its
///   marker), and killed with the group frozen.
///
/// Where no cgroup can be made, `make` returns nil and the process marker does the work alone.
public struct ModuleCgroup: Sendable {
    public enum Kind: Sendable { case unified, v1 }

    public let kind: Kind
    /// The group whose `cgroup.procs` lists the members (v1: the `pids` group).
    public let path: String
    /// v1 only: the freezer group, when that hierarchy is there too.
    public let freezerPath: String?

    public static let root = "/sys/fs/cgroup"

    /// Whether every process of a module born inside the group is sure to be in it (nothing can
    /// fork before it belongs, and only a privileged process can move out), so `/proc` need not
    /// be searched for marked processes that escaped a move.
    public var holdsEveryProcess: Bool { kind == .unified }

    /// Makes (or reuses) the module's group; nil when neither hierarchy lets us.
    public static func make(runID: String, module: String, root: String = ModuleCgroup.root) -> ModuleCgroup? {
        if let home = unifiedHome(root: root) {
            let path = "\(home)/superbot-\(runID)/\(module)"
            if makeDirectory(path, controlFile: "cgroup.procs") {
                return ModuleCgroup(kind: .unified, path: path, freezerPath: nil)
            }
        }
        let pids = "\(root)/pids/superbot-\(runID)/\(module)"
        guard makeDirectory(pids, controlFile: "cgroup.procs") else { return nil }
        let freezer = "\(root)/freezer/superbot-\(runID)/\(module)"
        return ModuleCgroup(
            kind: .v1, path: pids, freezerPath: makeDirectory(freezer, controlFile: "cgroup.procs") ? freezer : nil)
    }

    /// The daemon's own cgroup v2 directory: the cgroup2 mount (`/sys/fs/cgroup` itself, or
    /// `unified` on a hybrid machine) joined with the `0::` line of `/proc/self/cgroup`.
    static func unifiedHome(root: String) -> String? {
        guard let mount = [root, root + "/unified"].first(where: { FileSystem.exists($0 + "/cgroup.controllers") }),
            let text = try? FileSystem.readString("/proc/self/cgroup"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        let own = String(line.dropFirst(3))
        return own == "/" ? mount : mount + own
    }

    private static func makeDirectory(_ path: String, controlFile: String) -> Bool {
        if FileSystem.isDirectory(path) { return FileSystem.exists(path + "/" + controlFile) }
        let parent = FileSystem.directoryName(path)
        guard FileSystem.isDirectory(FileSystem.directoryName(parent)) else { return false }
        if !FileSystem.isDirectory(parent) && mkdir(parent, 0o755) != 0 { return false }
        guard mkdir(path, 0o755) == 0 else { return false }
        // A directory without control files is no cgroup (a read-only or emulated hierarchy).
        if FileSystem.exists(path + "/" + controlFile) { return true }
        rmdir(path)
        rmdir(parent)
        return false
    }

    /// Spawns `request` as a member. v2: the child is born inside (clone3 with
    /// CLONE_INTO_CGROUP), so it cannot fork before it belongs, and no migration is paid (moving
    /// a process costs an RCU grace period, about 6 ms on this machine). v1, or a kernel that
    /// refuses the flag: spawned, then moved in; `inside` is false.
    public func spawn(_ request: SpawnRequest) throws -> (pid: pid_t, inside: Bool) {
        if kind == .unified {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                defer { close(fd) }
                if let pid = try Spawner.spawn(request, intoCgroup: fd) { return (pid, true) }
            }
        }
        let pid = try Spawner.spawn(request)
        add(pid)
        return (pid, false)
    }

    /// Moves `pid` (and so its future children) into the group: adoption, and v1 spawns.
    @discardableResult
    public func add(_ pid: pid_t) -> Bool {
        var ok = write(path + "/cgroup.procs", "\(pid)")
        if let freezerPath { ok = write(freezerPath + "/cgroup.procs", "\(pid)") && ok }
        return ok
    }

    /// The live members.
    public func members() -> [pid_t] {
        let fd = open(path + "/cgroup.procs", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        return ModuleCgroup.readPids(fd)
    }

    /// The pids in a `cgroup.procs` descriptor, read from offset 0 into a buffer on the stack and
    /// parsed as bytes (the watchdog reads it for every module and pass). The kernel hands out at
    /// most a page per read and stops short only when the next line would not fit, so a read
    /// that leaves more than a line's room is the last.
    static func readPids(_ fd: Int32) -> [pid_t] {
        var pids: [pid_t] = []
        var value: pid_t = 0
        var digits = false
        var offset: off_t = 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer in
            while true {
                let n = pread(fd, buffer.baseAddress!, buffer.count, offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                offset += off_t(n)
                for byte in buffer[0..<n] {
                    if byte >= 0x30 && byte <= 0x39 {
                        value = value &* 10 &+ pid_t(byte - 0x30)
                        digits = true
                    } else if digits {
                        pids.append(value)
                        value = 0
                        digits = false
                    }
                }
                if n < buffer.count - 32 { break }
            }
        }
        if digits { pids.append(value) }
        return pids
    }

    /// SIGKILLs every member, so that nothing escapes by forking in between; returns how many
    /// there were. An empty group costs one read. v1 kills with the group frozen. v2 kills in
    /// rounds until a read shows no one new: a process with SIGKILL pending cannot fork, so a
    /// child can only be one born before its parent's kill, and the next round finds it.
    /// (Not `cgroup.kill`: on this kernel, once a group has been killed that way, every child
    /// later cloned into it with CLONE_INTO_CGROUP is killed at birth.)
    @discardableResult
    public func killAll() -> Int {
        if kind == .unified {
            var killed: Set<pid_t> = []
            for _ in 0..<100 {
                let fresh = members().filter { !killed.contains($0) }
                if fresh.isEmpty { break }
                for pid in fresh { kill(pid, SIGKILL) }
                killed.formUnion(fresh)
            }
            return killed.count
        }
        guard !members().isEmpty else { return 0 }
        if let freezerPath { _ = write(freezerPath + "/freezer.state", "FROZEN") }
        let pids = members()
        for pid in pids { kill(pid, SIGKILL) }
        if let freezerPath { _ = write(freezerPath + "/freezer.state", "THAWED") }
        return pids.count
    }

    /// Waits (until the monotonic `deadline`) for killed members to be gone, so the group can be
    /// removed.
    public func waitUntilEmpty(deadline: Double) {
        while !members().isEmpty && Clock.monotonic() < deadline { Clock.sleep(0.002) }
    }

    /// Removes the group once empty (at daemon stop, or when the module is removed).
    public func remove() {
        if let freezerPath { rmdir(freezerPath) }
        rmdir(path)
    }

    /// Removes the run's parent groups once every module group is gone.
    public static func removeRun(runID: String, root: String = ModuleCgroup.root) {
        for base in runParents(root: root) { rmdir("\(base)/superbot-\(runID)") }
    }

    /// Removes empty groups other runs left behind (a daemon killed with SIGKILL never removes
    /// its own); a group with members is busy, and rmdir leaves it alone.
    public static func removeEmptyLeftovers(root: String = ModuleCgroup.root) {
        for base in runParents(root: root) {
            for run in FileSystem.listDirectory(base) where run.hasPrefix("superbot-") {
                for module in FileSystem.listDirectory("\(base)/\(run)")
                where FileSystem.isDirectory("\(base)/\(run)/\(module)") {
                    rmdir("\(base)/\(run)/\(module)")
                }
                rmdir("\(base)/\(run)")
            }
        }
    }

    private static func runParents(root: String) -> [String] {
        [unifiedHome(root: root), "\(root)/pids", "\(root)/freezer"].compactMap { $0 }
    }

    private func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}
