import Glibc
import JSON
import SystemKit

/// Writes records to `<dir>/<prefix>-YYYYMMDD.jsonl`, switching files at midnight UTC and keeping
/// `retentionDays` files. Each record is one `write(2)` to an O_APPEND file, so lines never interleave.
public final class JSONLinesFileSink: LogSink {
    public let directory: String
    public let prefix: String
    public let retentionDays: Int
    private var fd: Int32 = -1
    private var day = ""

    public init(directory: String, prefix: String, retentionDays: Int = 14) {
        self.directory = directory
        self.prefix = prefix
        self.retentionDays = retentionDays
    }

    deinit { if fd >= 0 { close(fd) } }

    public func path(forDay day: String) -> String { "\(directory)/\(prefix)-\(day).jsonl" }

    /// The file records of today are written to.
    public var currentPath: String { path(forDay: Clock.utcDay(Clock.wall())) }

    public func write(_ record: LogRecord) {
        let recordDay = Clock.utcDay(record.time)
        if recordDay != day || fd < 0 { rollOver(to: recordDay) }
        guard fd >= 0 else { return }
        var line = record.json.serialized()
        line += "\n"
        try? FileSystem.writeAll(fd, Array(line.utf8))
    }

    private func rollOver(to newDay: String) {
        if fd >= 0 { close(fd) }
        day = newDay
        try? FileSystem.makeDirectories(directory)
        fd = open(path(forDay: newDay), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        pruneOldFiles()
    }

    private func pruneOldFiles() {
        let mine = FileSystem.listDirectory(directory)
            .filter { $0.hasPrefix(prefix + "-") && $0.hasSuffix(".jsonl") && $0.count == prefix.count + 15 }
            .sorted()
        for name in mine.dropLast(retentionDays) { unlink("\(directory)/\(name)") }
    }
}

/// Compact one-line records on a terminal (stderr).
public final class ConsoleSink: LogSink {
    public init() {}

    public func write(_ record: LogRecord) {
        let line = record.compact + "\n"
        try? FileSystem.writeAll(2, Array(line.utf8))
    }
}
