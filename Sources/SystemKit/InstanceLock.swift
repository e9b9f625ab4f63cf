import Glibc

/// The daemon's PID file, held with `flock` for the daemon's lifetime. A file left by a dead daemon
/// carries no lock, so it never blocks a start; a live daemon's lock makes a second one fail.
public final class InstanceLock {
    public struct AlreadyRunning: Error, CustomStringConvertible {
        public let path: String
        public let pid: pid_t?
        public var description: String {
            "another superbot daemon is already running" + (pid.map { " (pid \($0))" } ?? "") + " holding \(path)"
        }
    }

    public let path: String
    private var fd: Int32

    public init(path: String) throws {
        self.path = path
        let fd = try retryingOnEINTR("open", detail: path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = (try? FileSystem.readString(path)).flatMap { pid_t($0.split(separator: "\n").first ?? "") }
            close(fd)
            if code == EWOULDBLOCK { throw AlreadyRunning(path: path, pid: holder) }
            throw SystemError("flock", errno: code, detail: path)
        }
        ftruncate(fd, 0)
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        fsync(fd)
        self.fd = fd
    }

    /// Removes the file, then drops the lock (in that order, so no other daemon sees our file unlocked).
    public func release() {
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
