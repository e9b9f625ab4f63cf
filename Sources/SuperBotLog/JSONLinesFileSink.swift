import Glibc
import JSON
import Synchronization
import SystemKit

/// Writes records to `<dir>/<prefix>-YYYYMMDD.jsonl`, switching files at midnight UTC and keeping
/// `retentionDays` files. Each record is one `write(2)` to an O_APPEND file, so lines never
/// interleave, and a lock makes the sink safe to share between tasks.
public final class JSONLinesFileSink: LogSink {
    public let directory: String
    public let prefix: String
    public let retentionDays: Int
    private let file = Mutex<(fd: Int32, day: String)>((-1, ""))

    public init(directory: String, prefix: String, retentionDays: Int = 14) {
        self.directory = directory
        self.prefix = prefix
        self.retentionDays = retentionDays
    }

    deinit {
        file.withLock { if $0.fd >= 0 { close($0.fd) } }
    }

    public func path(forDay day: String) -> String { "\(directory)/\(prefix)-\(day).jsonl" }

    /// The file records of today are written to.
    public var currentPath: String { path(forDay: Clock.utcDay(Clock.wall())) }

    public func write(_ record: LogRecord) {
        let line = Array((record.json.serialized() + "\n").utf8)
        let recordDay = Clock.utcDay(record.time)
        file.withLock { state in
            if recordDay != state.day || state.fd < 0 {
                if state.fd >= 0 { close(state.fd) }
                state.day = recordDay
                try? FileSystem.makeDirectories(directory)
                state.fd = open(path(forDay: recordDay), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                pruneOldFiles()
            }
            if state.fd >= 0 { try? FileSystem.writeAll(state.fd, line) }
        }
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
