import Glibc

/// One pass over `/proc`: every process's stat line, and the modules of those carrying a
/// `ProcessMarker` of one run directory. Taken once per loop turn and shared, so stopping a
/// thousand modules costs one pass, not a thousand.
public struct ProcessSnapshot: Sendable {
    public let table: ProcessTable
    /// pid → module, for processes marked with the run id.
    public let marked: [pid_t: String]

    public static func take(runID: String) -> ProcessSnapshot {
        let table = ProcessTable.scan()
        var marked: [pid_t: String] = [:]
        let me = getpid()
        for (pid, stat) in table.entries where pid != me && !stat.isZombie {
            if let marker = ProcessMarker.read(pid), marker.runID == runID { marked[pid] = marker.module }
        }
        return ProcessSnapshot(table: table, marked: marked)
    }

    /// `module`'s processes other than `main`: its tree, and every other process with its marker.
    public func members(of module: String, main: pid_t) -> [ProcStat] {
        var found = table.tree(of: main)
        let known = Set(found.map(\.pid))
        for (pid, name) in marked where name == module && pid != main && !known.contains(pid) {
            if let stat = table.entries[pid] { found.append(stat) }
        }
        return found
    }
}
