import Glibc

/// A module's cgroup in the v1 `pids` and `freezer` hierarchies, where the machine lets us make
/// one (`/sys/fs/cgroup/{pids,freezer}/superbot-<run id>/<module>`). Membership is inherited by
/// every descendant however it detaches, and a frozen group cannot fork while it is killed.
/// Where no cgroup can be made, `make` returns nil and the process marker does the work alone.
public struct ModuleCgroup: Sendable {
    public let pidsPath: String
    public let freezerPath: String?

    public static let root = "/sys/fs/cgroup"

    /// Makes (or reuses) the module's groups; nil when the pids hierarchy is missing or read-only.
    public static func make(runID: String, module: String, root: String = ModuleCgroup.root) -> ModuleCgroup? {
        let pids = "\(root)/pids/superbot-\(runID)/\(module)"
        guard makeDirectory(pids) else { return nil }
        let freezer = "\(root)/freezer/superbot-\(runID)/\(module)"
        return ModuleCgroup(pidsPath: pids, freezerPath: makeDirectory(freezer) ? freezer : nil)
    }

    private static func makeDirectory(_ path: String) -> Bool {
        if FileSystem.isDirectory(path) { return FileSystem.exists(path + "/cgroup.procs") }
        let parent = FileSystem.directoryName(path)
        guard FileSystem.isDirectory(FileSystem.directoryName(parent)) else { return false }
        if !FileSystem.isDirectory(parent) && mkdir(parent, 0o755) != 0 { return false }
        guard mkdir(path, 0o755) == 0 else { return false }
        // A directory without control files is no cgroup (a read-only or emulated hierarchy).
        if FileSystem.exists(path + "/cgroup.procs") { return true }
        rmdir(path)
        rmdir(parent)
        return false
    }

    /// Moves `pid` (and so its future children) into the groups.
    @discardableResult
    public func add(_ pid: pid_t) -> Bool {
        var ok = write(pidsPath + "/cgroup.procs", "\(pid)")
        if let freezerPath { ok = write(freezerPath + "/cgroup.procs", "\(pid)") && ok }
        return ok
    }

    /// The live members.
    public func members() -> [pid_t] {
        guard let text = try? FileSystem.readString(pidsPath + "/cgroup.procs") else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// SIGKILLs every member with the group frozen, so nothing forks in between; returns how many.
    @discardableResult
    public func killAll() -> Int {
        if let freezerPath { _ = write(freezerPath + "/freezer.state", "FROZEN") }
        let pids = members()
        for pid in pids { kill(pid, SIGKILL) }
        if let freezerPath { _ = write(freezerPath + "/freezer.state", "THAWED") }
        return pids.count
    }

    /// Removes the groups once empty (at daemon stop, or when the module is removed).
    public func remove() {
        if let freezerPath { rmdir(freezerPath) }
        rmdir(pidsPath)
    }

    /// Removes the run's parent groups once every module group is gone.
    public static func removeRun(runID: String, root: String = ModuleCgroup.root) {
        rmdir("\(root)/freezer/superbot-\(runID)")
        rmdir("\(root)/pids/superbot-\(runID)")
    }

    /// Removes empty groups other runs left behind (a daemon killed with SIGKILL never removes
    /// its own); a group with members is busy, and rmdir leaves it alone.
    public static func removeEmptyLeftovers(root: String = ModuleCgroup.root) {
        for hierarchy in ["pids", "freezer"] {
            let base = "\(root)/\(hierarchy)"
            for run in FileSystem.listDirectory(base) where run.hasPrefix("superbot-") {
                for module in FileSystem.listDirectory("\(base)/\(run)")
                where FileSystem.isDirectory("\(base)/\(run)/\(module)") {
                    rmdir("\(base)/\(run)/\(module)")
                }
                rmdir("\(base)/\(run)")
            }
        }
    }

    private func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}
