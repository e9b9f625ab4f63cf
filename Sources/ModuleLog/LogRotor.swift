import Glibc
import SystemKit

/// The file side of a module's log writer (`superbot-log`, shaped like runit's svlogd and
/// s6-log): it appends whole lines to `path`, rotates by size with one atomic rename to
/// `path.<n>` (n increasing: the highest is the newest, and a rotated file is never renamed
/// again, so a follower can tell what it missed without racing the writer), keeps the newest
/// `keep` of them and removes those older than `retentionDays`.
///
/// Bytes arrive in whatever pieces the pipe gives; only complete lines are written, each in one
/// piece and never across a rotation, so a reader never sees half a line and a crash of the
/// writer loses nothing that was already written. A line longer than `maxLine` is cut into
/// `maxLine` pieces (the only case a line is split), bounding the writer's memory.
public final class LogRotor {
    public struct Settings: Sendable, Equatable {
        public var path: String
        /// Rotate before a line would take the file past this size; 0 never rotates.
        public var maxBytes: Int
        /// Rotated files kept (the newest `keep` of `path.<n>`).
        public var keep: Int
        /// Rotated files older than this are removed (0 keeps them, up to `keep`).
        public var retentionDays: Int
        /// Prefix each line with its arrival time (ISO 8601 UTC, milliseconds).
        public var timestamps: Bool
        public var maxLine: Int

        public init(
            path: String, maxBytes: Int = 10 << 20, keep: Int = 5, retentionDays: Int = 14, timestamps: Bool = false,
            maxLine: Int = 1 << 20
        ) {
            self.path = path
            self.maxBytes = maxBytes
            self.keep = max(1, keep)
            self.retentionDays = retentionDays
            self.timestamps = timestamps
            self.maxLine = max(1, maxLine)
        }
    }

    public let settings: Settings
    private var fd: Int32 = -1
    private var size = 0
    private var partial: [UInt8] = []
    public private(set) var rotations = 0
    public private(set) var linesWritten = 0
    /// Called when a write fails (the disk is full): the writer retries after it, losing nothing.
    public var onWriteError: (any Error) -> Void = { _ in }

    public init(_ settings: Settings) throws {
        self.settings = settings
        try openCurrent()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Takes bytes from the pipe and writes the lines they complete; the rest waits for more.
    public func feed(_ bytes: ArraySlice<UInt8>, now: Double) {
        guard let lastNewline = bytes.lastIndex(of: 0x0A) else {
            partial.append(contentsOf: bytes)
            cutOverlongPartial(now: now)
            return
        }
        if partial.isEmpty {
            writeLines(bytes[...lastNewline], now: now)
        } else {
            partial.append(contentsOf: bytes[...lastNewline])
            let complete = partial
            partial = []
            writeLines(complete[...], now: now)
        }
        partial.append(contentsOf: bytes[(lastNewline + 1)...])
        cutOverlongPartial(now: now)
    }

    /// Writes an unterminated last line (given its newline): the module's last words count too.
    public func finish(now: Double) {
        guard !partial.isEmpty else { return }
        let last = partial + [0x0A]
        partial = []
        writeLines(last[...], now: now)
    }

    // MARK: Writing

    private func cutOverlongPartial(now: Double) {
        while partial.count >= settings.maxLine {
            let piece = Array(partial.prefix(settings.maxLine)) + [0x0A]
            partial.removeFirst(settings.maxLine)
            writeLines(piece[...], now: now)
        }
    }

    /// `lines` ends with a newline. Written in as few `write`s as rotation allows.
    private func writeLines(_ lines: ArraySlice<UInt8>, now: Double) {
        let stamp = settings.timestamps ? Array((Clock.iso8601(now) + " ").utf8) : []
        var chunk: [UInt8] = []
        chunk.reserveCapacity(min(lines.count + stamp.count * 64, 1 << 20))
        var start = lines.startIndex
        while start < lines.endIndex {
            let end = lines[start...].firstIndex(of: 0x0A)! + 1
            let length = stamp.count + (end - start)
            if settings.maxBytes > 0 && size + chunk.count > 0 && size + chunk.count + length > settings.maxBytes {
                write(chunk)
                chunk.removeAll(keepingCapacity: true)
                rotate(now: now)
            }
            chunk += stamp
            chunk += lines[start..<end]
            linesWritten += 1
            start = end
        }
        write(chunk)
    }

    private func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        while true {
            do {
                try FileSystem.writeAll(fd, bytes, detail: settings.path)
                size += bytes.count
                return
            } catch {
                // A full disk or a vanished directory: wait and retry, the pipe holds the rest.
                onWriteError(error)
                Clock.sleep(1)
                try? reopenIfGone()
            }
        }
    }

    // MARK: Files

    private func openCurrent() throws {
        try FileSystem.makeDirectories(FileSystem.directoryName(settings.path))
        let path = settings.path
        fd = try retryingOnEINTR("open", detail: path) { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) }
        size = FileSystem.size(path)?.size ?? 0
    }

    private func reopenIfGone() throws {
        guard FileSystem.size(settings.path) == nil else { return }
        close(fd)
        try openCurrent()
    }

    /// `path` → `path.<n+1>` (one atomic rename), then a new `path`; the oldest rotated files
    /// past `keep` go. A follower that holds the old file open reads its end, then the new one.
    private func rotate(now: Double) {
        let path = settings.path
        let rotated = LogRotor.rotatedFiles(of: path)
        rename(path, "\(path).\((rotated.last?.number ?? 0) + 1)")
        for old in rotated.dropLast(max(0, settings.keep - 1)) { unlink(old.path) }
        close(fd)
        fd = -1
        while fd < 0 {
            do { try openCurrent() } catch {
                onWriteError(error)
                Clock.sleep(1)
            }
        }
        rotations += 1
        removeExpired(now: now)
    }

    /// Rotated files past their retention go; `path` itself never does.
    private func removeExpired(now: Double) {
        guard settings.retentionDays > 0 else { return }
        let cutoff = now - Double(settings.retentionDays) * 86_400
        for rotated in LogRotor.rotatedFiles(of: settings.path) {
            var info = stat()
            if stat(rotated.path, &info) == 0 && Double(info.st_mtim.tv_sec) < cutoff { unlink(rotated.path) }
        }
    }

    /// `path.<n>` files, oldest (lowest n) first.
    public static func rotatedFiles(of path: String) -> [(number: Int, path: String)] {
        let prefix = FileSystem.baseName(path) + "."
        let directory = FileSystem.directoryName(path)
        return FileSystem.listDirectory(directory).compactMap { name -> (Int, String)? in
            guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), n > 0 else { return nil }
            return (n, directory + "/" + name)
        }.sorted { $0.0 < $1.0 }
    }
}
