import Glibc

/// Descriptors held open on a module's main `/proc/PID/stat` and its cgroup's `cgroup.procs`,
/// read again from offset 0 at each watchdog pass (the kernel makes the text anew): two reads
/// per module and pass instead of two opens, two reads and two closes, which the path lookups
/// made the larger part of the pass. The stat descriptor stays bound to the process it was
/// opened for: once that exits, it reads nothing, even if the pid is reused.
public final class ProcessWatch {
    public let pid: pid_t
    private let statFD: Int32
    private let procsFD: Int32

    /// nil when the process is gone already, or a descriptor cannot be had (the caller reads the
    /// files the usual way).
    public init?(pid: pid_t, cgroup: ModuleCgroup) {
        let stat = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard stat >= 0 else { return nil }
        let procs = open(cgroup.path + "/cgroup.procs", O_RDONLY | O_CLOEXEC)
        guard procs >= 0 else {
            close(stat)
            return nil
        }
        self.pid = pid
        statFD = stat
        procsFD = procs
    }

    deinit {
        close(statFD)
        close(procsFD)
    }

    /// The main process's stat line now; nil once it has exited.
    public func stat() -> ProcStat? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2048) { buffer in
            let n = ProcessWatch.readFromStart(statFD, buffer)
            guard n > 0 else { return nil }
            return ProcStat.parse(UnsafeBufferPointer(rebasing: buffer[0..<n]), pid: pid)
        }
    }

    /// The cgroup's members now.
    public func members() -> [pid_t] { ModuleCgroup.readPids(procsFD) }

    /// One `pread` from offset 0. A stat line is one record, made whole in the first read.
    static func readFromStart(_ fd: Int32, _ buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress!, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            return max(n, 0)
        }
    }
}
