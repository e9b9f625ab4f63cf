import Glibc

/// The environment marker every module process carries: the daemon's run-directory id and the
/// module's name. The environment is inherited through fork, exec, setsid and double forks, so a
/// process that left the module's process tree (or outlived a daemon) is still found in `/proc`,
/// and a process that merely reuses a pid is never taken for a module.
public struct ProcessMarker: Equatable, Sendable {
    public static let runKey = "SUPERBOT_RUN_ID"
    public static let moduleKey = "SUPERBOT_MODULE"

    public var runID: String
    public var module: String

    public init(runID: String, module: String) {
        self.runID = runID
        self.module = module
    }

    /// The marker in `pid`'s initial environment, if it has one (nil for other users' processes).
    public static func read(_ pid: pid_t) -> ProcessMarker? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/environ") else { return nil }
        var run: String?
        var module: String?
        let runPrefix = Array((runKey + "=").utf8)
        let modulePrefix = Array((moduleKey + "=").utf8)
        for entry in bytes.split(separator: 0) {
            if entry.starts(with: runPrefix) {
                run = String(decoding: entry.dropFirst(runPrefix.count), as: UTF8.self)
            } else if entry.starts(with: modulePrefix) {
                module = String(decoding: entry.dropFirst(modulePrefix.count), as: UTF8.self)
            }
        }
        guard let run, let module else { return nil }
        return ProcessMarker(runID: run, module: module)
    }
}
