import Glibc
import SystemKit

/// `.superbot/<module>.pid`: the pid on the first line (as tools expect), then the start time and
/// executable that let a restarted daemon tell its module from an unrelated process that reused the pid.
struct ModulePidFile: Equatable {
    var pid: pid_t
    var startTime: UInt64
    var executable: String

    /// Atomic, not fsynced: the file describes a live process, which a power loss takes with it.
    func write(to path: String) throws {
        try FileSystem.writeAtomically(
            path, Array("\(pid)\nstart_time=\(startTime)\nexe=\(executable)\n".utf8), durable: false)
    }

    static func read(_ path: String) -> ModulePidFile? {
        guard let text = try? FileSystem.readString(path) else { return nil }
        let lines = text.split(separator: "\n").map(String.init)
        guard let first = lines.first, let pid = pid_t(first) else { return nil }
        var startTime: UInt64?
        var exe: String?
        for line in lines.dropFirst() {
            if line.hasPrefix("start_time=") { startTime = UInt64(line.dropFirst(11)) }
            if line.hasPrefix("exe=") { exe = String(line.dropFirst(4)) }
        }
        guard let startTime, let exe else { return nil }
        return ModulePidFile(pid: pid, startTime: startTime, executable: exe)
    }

    /// True when `pid` is still the very process this file describes.
    func matchesLiveProcess() -> Bool {
        guard let stat = ProcStat.read(pid), !stat.isZombie, stat.startTime == startTime else { return false }
        return ProcStat.executable(pid) == executable
    }
}
