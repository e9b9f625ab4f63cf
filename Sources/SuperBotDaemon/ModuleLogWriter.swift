import Glibc
import SystemKit

/// A module's log writer: a `superbot-log` process (as runit's svlogd) reading the module's
/// stdout and stderr from a FIFO in the run directory and writing whole lines to its log file,
/// rotated by size. The writer is not the daemon, so a daemon crash loses no output: the module
/// keeps writing into the pipe, the writer keeps reading, and the next daemon adopts both.
///
/// The daemon holds the FIFO open read-write as long as it runs, so the pipe always has a reader:
/// a writer that dies and is started again never makes the module's writes fail (they wait in
/// the pipe, or block the module when it is full, as a terminal would).
final class ModuleLogWriter {
    struct Settings: Equatable {
        var logPath: String
        var maxBytes: Int
        var keep: Int
        var retentionDays: Int
        var timestamps: Bool
    }

    let module: String
    let fifoPath: String
    let pidFilePath: String
    let runID: String
    /// The daemon's socket, in the writer's environment (`SUPERBOT_LOG_SOCKET`).
    let socket: String
    private(set) var pid: pid_t?
    /// The writer's start time (clock ticks since boot): with the pid, its identity.
    private var startTime: UInt64 = 0
    /// The daemon's own read-write descriptor on the FIFO (see the type's comment).
    private var holdFD: Int32 = -1
    /// A pidfd on the writer: readable once it has exited, so the watchdog learns that with one
    /// `poll` instead of a `/proc` read per module and pass.
    private var pidFD: Int32 = -1

    init(module: String, runDirectory: String, runID: String, socket: String) {
        self.module = module
        fifoPath = runDirectory + "/\(module).log.fifo"
        pidFilePath = runDirectory + "/\(module).log.pid"
        self.runID = runID
        self.socket = socket
    }

    deinit {
        if holdFD >= 0 { close(holdFD) }
        if pidFD >= 0 { close(pidFD) }
    }

    /// The marker module name of a writer: no module name can contain a dot.
    var markerName: String { module + ".log" }

    /// Whether the writer process runs (and is ours).
    var isRunning: Bool {
        guard let pid, let stat = ProcStat.read(pid) else { return false }
        return !stat.isZombie && stat.startTime == startTime
    }

    /// The writers among `writers` that have exited: one `poll` over their pidfds (a `/proc` read
    /// for one that has none), not a file read per module and pass.
    static func exited(_ writers: [ModuleLogWriter]) -> [ModuleLogWriter] {
        let watched = writers.filter { $0.pid != nil && $0.pidFD >= 0 }
        var entries = watched.map { pollfd(fd: $0.pidFD, events: Int16(POLLIN), revents: 0) }
        var gone = writers.filter { $0.pid != nil && $0.pidFD < 0 && !$0.isRunning }
        if !entries.isEmpty && poll(&entries, nfds_t(entries.count), 0) > 0 {
            gone += zip(watched, entries).filter { $0.1.revents != 0 }.map(\.0)
        }
        return gone
    }

    /// Takes the writer `newPID` (started or adopted) as the one to watch.
    private func watch(_ newPID: pid_t, startTime: UInt64) {
        if pidFD >= 0 { close(pidFD) }
        pid = newPID
        self.startTime = startTime
        pidFD = (try? ProcessControl.openPidFD(newPID)) ?? -1
    }

    /// Takes over a writer a previous daemon left running (the PID file, checked against the
    /// process's start time and its marker); false when there is none. The executable is not
    /// compared: a rebuilt `superbot-log` shows as "(deleted)" in a running writer, which is
    /// still the one reading the pipe.
    func adopt() -> Bool {
        guard let file = ModulePidFile.read(pidFilePath), let stat = ProcStat.read(file.pid), !stat.isZombie,
            stat.startTime == file.startTime, let marker = ProcessMarker.read(file.pid), marker.module == markerName,
            marker.runID == runID, FileSystem.isFIFO(fifoPath)
        else { return false }
        watch(file.pid, startTime: file.startTime)
        if holdFD < 0 { holdFD = open(fifoPath, O_RDWR | O_NONBLOCK | O_CLOEXEC) }
        return true
    }

    /// A descriptor for the module's stdout and stderr: the FIFO's write end, the writer started
    /// (or adopted) first. The caller closes it once the module is spawned.
    func moduleOutput(_ settings: Settings) throws -> Int32 {
        if !isRunning && !adopt() { try start(settings) }
        let fd = try retryingOnEINTR("open", detail: fifoPath) { open(fifoPath, O_WRONLY | O_NONBLOCK | O_CLOEXEC) }
        // The module writes blocking: a slow disk slows it down rather than losing its lines.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Starts `superbot-log` on the FIFO (made if missing). Its environment is its markers and
    /// the daemon's socket (`SUPERBOT_LOG_SOCKET`, so tools can tell whose writer it is), no more.
    func start(_ settings: Settings) throws {
        guard let executable = Spawner.resolveExecutable("superbot-log", base: ".", searchPath: Environment.get("PATH"))
        else { throw SystemError("spawn", errno: ENOENT, detail: "superbot-log not found next to superbot or on PATH") }
        if !FileSystem.isFIFO(fifoPath) {
            unlink(fifoPath)
            guard mkfifo(fifoPath, 0o600) == 0 else { throw SystemError("mkfifo", detail: fifoPath) }
        }
        if holdFD < 0 {
            holdFD = try retryingOnEINTR("open", detail: fifoPath) { open(fifoPath, O_RDWR | O_NONBLOCK | O_CLOEXEC) }
        }
        // The writer reads blocking from its own descriptor; the daemon's stays non-blocking.
        let input = try retryingOnEINTR("open", detail: fifoPath) { open(fifoPath, O_RDWR | O_CLOEXEC) }
        defer { close(input) }
        var arguments = [
            "superbot-log", "--file", settings.logPath, "--max-bytes", String(settings.maxBytes), "--keep",
            String(settings.keep), "--retention-days", String(settings.retentionDays),
        ]
        if settings.timestamps { arguments.append("--timestamps") }
        let env = [
            "PATH=\(Environment.get("PATH") ?? "/usr/bin:/bin")", "\(ProcessMarker.moduleKey)=\(markerName)",
            "\(ProcessMarker.runKey)=\(runID)", "SUPERBOT_LOG_SOCKET=\(socket)",
        ]
        var request = SpawnRequest(executable: executable, arguments: arguments, environment: env)
        request.inputFD = input
        let newPID = try Spawner.spawn(request)
        watch(newPID, startTime: ProcStat.read(newPID)?.startTime ?? 0)
        try? ModulePidFile(pid: newPID, startTime: startTime, executable: ProcStat.executable(newPID) ?? executable)
            .write(to: pidFilePath)
    }

    /// New settings (a reload): the running writer drains the pipe and exits, then a new one
    /// takes the same pipe, so no line is lost or written out of order.
    func restart(_ settings: Settings) throws {
        terminate(timeout: 2)
        try start(settings)
    }

    /// Asks the writer to drain and exit without waiting, so a daemon stop lets every writer
    /// drain at once (then `stop` waits for each).
    func requestStop() {
        if let pid, isRunning { kill(pid, SIGTERM) }
    }

    /// Stops the writer once its module is gone; the FIFO and the daemon's hold on it go too.
    func stop(timeout: Double) {
        terminate(timeout: timeout)
        unlink(pidFilePath)
        if holdFD >= 0 {
            close(holdFD)
            holdFD = -1
        }
        unlink(fifoPath)
    }

    /// SIGTERM makes the writer drain the pipe and exit; after `timeout` it is killed.
    private func terminate(timeout: Double) {
        if let pid, isRunning {
            kill(pid, SIGTERM)
            let deadline = Clock.monotonic() + timeout
            while isRunning && Clock.monotonic() < deadline {
                _ = waitpid(pid, nil, WNOHANG)
                Clock.sleep(0.005)
            }
            if isRunning { kill(pid, SIGKILL) }
            _ = waitpid(pid, nil, WNOHANG)
        }
        pid = nil
        if pidFD >= 0 {
            close(pidFD)
            pidFD = -1
        }
    }
}
