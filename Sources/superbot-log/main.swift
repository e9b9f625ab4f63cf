// superbot-log: a module's log writer, as runit's svlogd. The daemon starts one per module with
// stdin on the module's log pipe (a FIFO it also holds open); the module writes to the pipe, this
// process writes whole lines to the log file and rotates it. It outlives a daemon crash (the
// module keeps writing into the pipe) and is adopted by the next daemon; on SIGTERM it drains
// the pipe and exits.
import Glibc
import ModuleLog
import SystemKit

let usage = """
    usage: superbot-log --file PATH [--max-bytes N] [--keep N] [--retention-days N] [--timestamps]
    Reads stdin and appends whole lines to PATH, rotating to PATH.1 … PATH.<keep> past N bytes.
    """

func fail(_ message: String) -> Never {
    try? FileSystem.writeAll(2, Array("superbot-log: \(message)\n\(usage)\n".utf8))
    exit(2)
}

var path: String?
var settings = LogRotor.Settings(path: "")
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    func int() -> Int {
        guard let text = arguments.popFirst(), let n = Int(text), n >= 0 else { fail("\(arg) needs a number ≥ 0") }
        return n
    }
    switch arg {
    case "--file": path = arguments.popFirst()
    case "--max-bytes": settings.maxBytes = int()
    case "--keep": settings.keep = max(1, int())
    case "--retention-days": settings.retentionDays = int()
    case "--timestamps": settings.timestamps = true
    case "-h", "--help":
        print(usage)
        exit(0)
    default: fail("unknown option '\(arg)'")
    }
}
guard let path, !path.isEmpty else { fail("--file is required") }
settings.path = path

Signals.ignore(SIGPIPE)
Signals.ignore(SIGHUP)
let rotor: LogRotor
do { rotor = try LogRotor(settings) } catch { fail("cannot open \(path): \(error)") }
rotor.onWriteError = { error in
    try? FileSystem.writeAll(2, Array("superbot-log: writing \(path): \(error); retrying in 1 s\n".utf8))
}
let signalFD: Int32
do { signalFD = try Signals.makeSignalFD([SIGTERM, SIGINT]) } catch { fail("cannot install signal handling: \(error)") }

enum Read { case data, empty, end }
var buffer = [UInt8](repeating: 0, count: 1 << 16)
@MainActor func pump() -> Read {
    while true {
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n > 0 {
            rotor.feed(buffer[0..<n], now: Clock.wall())
            return .data
        }
        if n < 0 && errno == EINTR { continue }
        return n < 0 && errno == EAGAIN ? .empty : .end
    }
}

var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
while true {
    guard poll(&fds, 2, -1) >= 0 || errno == EINTR else { fail("poll: \(String(cString: strerror(errno)))") }
    if fds[1].revents != 0 {
        // Stop: drain what the pipe holds, then write out an unterminated last line.
        _ = Signals.read(signalFD)
        _ = fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK)
        while pump() == .data {}
        rotor.finish(now: Clock.wall())
        exit(0)
    }
    if fds[0].revents != 0 && pump() == .end {
        rotor.finish(now: Clock.wall())
        exit(0)
    }
}
