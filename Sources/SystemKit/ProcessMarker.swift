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
    /// The control socket the process was given: what marked modules before run ids existed.
    public var socket: String?

    public init(runID: String, module: String, socket: String? = nil) {
        self.runID = runID
        self.module = module
        self.socket = socket
    }

    /// Whether this marker makes the process `module`'s in run `runID`. A process started by a
    /// daemon from before run ids (no `SUPERBOT_RUN_ID`) counts when it was given our socket.
    public func belongs(to module: String, runID: String, socket: String) -> Bool {
        guard self.module == module else { return false }
        return self.runID == runID || (self.runID.isEmpty && self.socket == socket)
    }

    /// The marker in `pid`'s initial environment, if it has one (nil for other users' processes).
    public static func read(_ pid: pid_t) -> ProcessMarker? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/environ") else { return nil }
        var run = ""
        var module: String?
        var socket: String?
        let runPrefix = Array((runKey + "=").utf8)
        let modulePrefix = Array((moduleKey + "=").utf8)
        let socketPrefix = Array("SUPERBOT_SOCKET=".utf8)
        for entry in bytes.split(separator: 0) {
            if entry.starts(with: runPrefix) {
                run = String(decoding: entry.dropFirst(runPrefix.count), as: UTF8.self)
            } else if entry.starts(with: modulePrefix) {
                module = String(decoding: entry.dropFirst(modulePrefix.count), as: UTF8.self)
            } else if entry.starts(with: socketPrefix) {
                socket = String(decoding: entry.dropFirst(socketPrefix.count), as: UTF8.self)
            }
        }
        guard let module else { return nil }
        return ProcessMarker(runID: run, module: module, socket: socket)
    }
}
