import Glibc
import SystemKit

/// Follows one log file for a client, like `tail -F`: survives rotation (new inode) and truncation,
/// and never sends half a line.
final class LogFollower {
    let connection: Connection
    let name: String
    /// Re-evaluated on every poll, so a dated file that rolls over at midnight is picked up.
    let path: () -> String
    private var currentPath: String
    private var inode: UInt64
    private var offset: Int
    private var partial: [UInt8] = []

    init(connection: Connection, name: String, path: @escaping () -> String) {
        self.connection = connection
        self.name = name
        self.path = path
        self.currentPath = path()
        let info = FileSystem.size(currentPath)
        self.inode = info?.inode ?? 0
        self.offset = info?.size ?? 0
    }

    /// New complete lines since the last poll (at most `limit` bytes are read per call).
    func poll(limit: Int = 1 << 20) -> [String] {
        let nowPath = path()
        guard let info = FileSystem.size(nowPath) else { return [] }
        if nowPath != currentPath || info.inode != inode || info.size < offset {
            currentPath = nowPath
            inode = info.inode
            offset = 0
            partial = []
        }
        guard info.size > offset else { return [] }
        let fd = open(currentPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: min(limit, info.size - offset))
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n > 0 else { return [] }
        offset += n
        partial += buffer[0..<n]
        guard let lastNewline = partial.lastIndex(of: 0x0A) else { return [] }
        let complete = partial[..<lastNewline]
        partial = Array(partial[(lastNewline + 1)...])
        return complete.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The last `count` lines of a file, reading backwards from its end in chunks.
    static func tail(_ path: String, lines count: Int) -> [String] {
        guard count > 0, let info = FileSystem.size(path) else { return [] }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var end = info.size
        var chunks: [[UInt8]] = []
        var newlines = 0
        var total = 0
        let chunk = 64 << 10
        while end > 0 && newlines <= count && total < 16 << 20 {
            let start = max(0, end - chunk)
            var buffer = [UInt8](repeating: 0, count: end - start)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard n > 0 else { break }
            buffer.removeSubrange(n...)
            newlines += buffer.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            total += n
            chunks.append(buffer)
            end = start
        }
        let data = Array(chunks.reversed().joined())
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        return Array(lines.suffix(count))
    }
}
