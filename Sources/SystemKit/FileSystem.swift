import Glibc

/// Small file helpers over Glibc, so the daemon and CLI need not load Foundation.
public enum FileSystem {
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try retryingOnEINTR("open", detail: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try retryingOnEINTR("read", detail: path) {
                chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    public static func readString(_ path: String) throws -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync of the directory.
    /// `durable: false` skips both fsyncs: still atomic against a crash of the process, not
    /// durable across a power loss (for files that describe live processes, which a power loss
    /// takes with it).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = true)
        throws
    {
        let tmp = path + ".tmp.\(getpid())"
        let fd = try retryingOnEINTR("open", detail: tmp) { open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        do {
            try writeAll(fd, bytes, detail: tmp)
            if durable { try retryingOnEINTR("fsync", detail: tmp) { fsync(fd) } }
            close(fd)
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        try retryingOnEINTR("rename", detail: path) { rename(tmp, path) }
        guard durable else { return }
        let dir = directoryName(path)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], detail: String? = nil) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try retryingOnEINTR("write", detail: detail) {
                bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += n
        }
    }

    /// `mkdir -p` with the given mode for directories it creates.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if path.isEmpty || isDirectory(path) { return }
        let parent = directoryName(path)
        if parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError("mkdir", detail: path) }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func isFIFO(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
    }

    public static func isExecutableFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The number of entries in a directory (`.` and `..` aside), without building their names.
    public static func countEntries(_ path: String) -> Int {
        guard let dir = opendir(path) else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let dot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
            }
            if !dot { count += 1 }
        }
        return count
    }

    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Joins `path` onto `base` unless it is already absolute.
    public static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        if base.isEmpty || base == "." { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    public static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// Absolute form of `path` (relative to the working directory), without touching the file system further.
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : resolve(path, against: currentDirectory())
    }

    public static func size(_ path: String) -> (size: Int, inode: UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (Int(st.st_size), UInt64(st.st_ino))
    }

    /// Directory holding the running executable; used to find sibling binaries.
    public static func executableDirectory() -> String {
        directoryName(readLink("/proc/self/exe") ?? ".")
    }
}
