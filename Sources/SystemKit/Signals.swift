import CShim
import Glibc

public enum Signals {
    private static let names: [Int32: String] = [
        SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGILL: "ILL", SIGABRT: "ABRT", SIGBUS: "BUS",
        SIGFPE: "FPE", SIGKILL: "KILL", SIGUSR1: "USR1", SIGSEGV: "SEGV", SIGUSR2: "USR2", SIGPIPE: "PIPE",
        SIGALRM: "ALRM", SIGTERM: "TERM", SIGCHLD: "CHLD", SIGCONT: "CONT", SIGSTOP: "STOP", SIGTSTP: "TSTP",
    ]

    public static func name(_ signal: Int32) -> String { names[signal].map { "SIG" + $0 } ?? "signal \(signal)" }

    /// Parses `TERM`, `SIGTERM` or `15`.
    public static func number(_ text: String) -> Int32? {
        if let n = Int32(text), n > 0, n < 65 { return n }
        let bare = text.uppercased().hasPrefix("SIG") ? String(text.uppercased().dropFirst(3)) : text.uppercased()
        return names.first { $0.value == bare }?.key
    }

    /// Blocks `signals` in this thread (and threads it creates later) and returns a signalfd for them.
    public static func makeSignalFD(_ signals: [Int32]) throws -> Int32 {
        let fd = signals.withUnsafeBufferPointer { sb_signalfd($0.baseAddress, Int32($0.count)) }
        if fd < 0 { throw SystemError("signalfd") }
        return fd
    }

    /// Drains a signalfd, returning the signals read.
    public static func read(_ fd: Int32) -> [Int32] {
        var out: [Int32] = []
        while true {
            let sig = sb_signalfd_read(fd)
            if sig <= 0 { return out }
            out.append(sig)
        }
    }

    public static func ignore(_ signal: Int32) { Glibc.signal(signal, SIG_IGN) }
}
