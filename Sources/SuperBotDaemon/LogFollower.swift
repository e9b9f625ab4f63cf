import Glibc
import ModuleLog
import SystemKit

/// Follows one log file for a client, like `tail -F`, and loses nothing to a rotation: the file
/// is held open, so when its name moves to `.1` the rest of the old file is read before the new
/// one is opened. A truncated file is read again from its start. Never sends half a line.
final class LogFollower {
    let connection: Connection
    let name: String
    /// Re-evaluated on every poll, so a dated file that rolls over at midnight is picked up.
    let path: () -> String
    private var currentPath: String
    private var fd: Int32 = -1
    private var inode: UInt64 = 0
    private var offset: Int
    private var partial: [UInt8] = []

    init(connection: Connection, name: String, path: @escaping () -> String) {
        self.connection = connection
        self.name = name
        self.path = path
        currentPath = path()
        offset = FileSystem.size(currentPath)?.size ?? 0
        openCurrent()
    }

    deinit { if fd >= 0 { close(fd) } }

    private func openCurrent() {
        if fd >= 0 { close(fd) }
        fd = open(currentPath, O_RDONLY | O_CLOEXEC)
        var st = stat()
        inode = fd >= 0 && fstat(fd, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    /// New complete lines since the last poll (at most `limit` bytes are read per call).
    func poll(limit: Int = 1 << 20) -> [String] {
        var budget = limit
        var lines = readHeld(&budget)
        let nowPath = path()
        let named = FileSystem.size(nowPath)
        if let named, nowPath != currentPath || named.inode != inode || fd < 0 {
            // Rotated (or a new dated file): the old one was read to its end above. Files rotated
            // since then (several rotations between two polls) are read whole, oldest first.
            if budget > 0 {
                // The writer may have added to the held file between our read and its rotation.
                lines += readHeld(&budget)
                let old = (path: currentPath, inode: fd >= 0 ? inode : nil)
                currentPath = nowPath
                offset = 0
                partial = []
                // Open the newest file first, then read whatever was rotated between the two.
                openCurrent()
                if nowPath == old.path { lines += rotated(after: old.inode, before: inode) }
                lines += readHeld(&budget)
            }
        } else if let named, named.size < offset {
            offset = 0
            partial = []
            lines += readHeld(&budget)
        }
        return lines
    }

    /// The lines of the rotated files newer than `old` (the file held before; nil when none
    /// existed at attach, so every rotated file is new) and older than `new` (the file held now,
    /// which may itself have been rotated already), oldest first. Rotated files are never
    /// renamed again (`path.<n>`, n increasing), so this cannot race the writer.
    private func rotated(after old: UInt64?, before new: UInt64) -> [String] {
        var files = LogRotor.rotatedFiles(of: currentPath).compactMap { file in
            FileSystem.size(file.path).map { (file.path, $0.inode) }
        }
        if let old {
            guard let k = files.firstIndex(where: { $0.1 == old }) else { return [] }
            files = Array(files[(k + 1)...])
        }
        if let j = files.firstIndex(where: { $0.1 == new }) { files = Array(files[..<j]) }
        return files.flatMap { file -> [String] in
            guard let bytes = try? FileSystem.readFile(file.0), !bytes.isEmpty else { return [] }
            return LogFollower.lines(bytes.dropLast(bytes.last == 0x0A ? 1 : 0))
        }
    }

    /// Reads the held file from `offset` to its end (or the budget).
    private func readHeld(_ budget: inout Int) -> [String] {
        guard fd >= 0 else { return [] }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) > offset, budget > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: min(budget, Int(st.st_size) - offset))
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n > 0 else { return [] }
        offset += n
        budget -= n
        partial += buffer[0..<n]
        guard let lastNewline = partial.lastIndex(of: 0x0A) else { return [] }
        let complete = partial[..<lastNewline]
        partial = Array(partial[(lastNewline + 1)...])
        return LogFollower.lines(complete)
    }

    /// `bytes` without its final newline, as lines.
    private static func lines(_ bytes: ArraySlice<UInt8>) -> [String] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
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
