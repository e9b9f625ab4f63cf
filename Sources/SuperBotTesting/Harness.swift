import Glibc
import JSON
import RPC
import SystemKit

/// Runs the real `superbot` binary on a private temporary directory and cleans up every process
/// it (or its modules) started, found by the `SUPERBOT_SOCKET` path in their environment.
/// The real daemon on a temporary directory, for process tests: config in, binaries from the
/// build directory, deadlines instead of sleeps, and every process it started killed at the end.
public final class Harness {
    /// Our binaries sit next to the test bundle in the build directory.
    public static let binDirectory = FileSystem.executableDirectory()

    public let dir: String
    public private(set) var daemonPID: pid_t?
    public var socketPath: String { dir + "/.superbot/superbot.sock" }
    public var runDir: String { dir + "/.superbot" }

    public init(_ yaml: String) throws {
        var template = Array("/tmp/sbt-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        dir = String(cString: made)
        try FileSystem.makeDirectories(dir + "/config")
        try writeConfig(yaml)
    }

    deinit { cleanup() }

    public func writeConfig(_ yaml: String) throws {
        try FileSystem.writeAtomically(dir + "/config/daemon.yaml", Array(yaml.utf8))
    }

    public static func binary(_ name: String) -> String { binDirectory + "/" + name }

    /// Starts the daemon and waits until its socket answers.
    @discardableResult
    public func startDaemon(waitReady: Bool = true) throws -> pid_t {
        let pid = try Spawner.spawn(
            SpawnRequest(
                executable: Harness.binary("superbot"), arguments: ["superbot", "--config", dir + "/config"],
                environment: Environment.all(), workingDirectory: dir, outputPath: dir + "/daemon.out"))
        daemonPID = pid
        if waitReady {
            let ready = waitUntil(10) { (try? self.call("daemon.status")) != nil }
            if !ready { throw HarnessError("daemon did not answer within 10 s; output:\n\(daemonOutput())") }
        }
        return pid
    }

    public func daemonOutput() -> String { (try? FileSystem.readString(dir + "/daemon.out")) ?? "" }

    /// Set when the daemon is configured with `ipc.auth_token`.
    public var token: String?

    public func client() throws -> RPCClient {
        let c = try RPCClient(socketPath: socketPath, timeout: 30)
        if let token { _ = try c.call("auth.login", ["token": .string(token)]) }
        return c
    }

    public func call(_ method: String, _ params: JSON? = nil) throws -> JSON { try client().call(method, params) }

    public func status(_ name: String) throws -> JSON { try call("module.status", ["name": .string(name)]) }

    public func state(_ name: String) -> String? { (try? status(name))?["state"]?.stringValue }

    public func pid(_ name: String) -> pid_t? { (try? status(name))?["pid"]?.intValue.map { pid_t($0) } }

    public func waitForState(_ name: String, _ state: String, timeout: Double = 10) -> Bool {
        waitUntil(timeout) { self.state(name) == state }
    }

    /// Runs `superbot-cli` with `args` and returns its exit code and output.
    public func cli(_ args: [String]) -> (code: Int32, output: String) {
        let out = dir + "/cli-\(Int(Clock.monotonic() * 1e6)).out"
        guard
            let pid = try? Spawner.spawn(
                SpawnRequest(
                    executable: Harness.binary("superbot-cli"),
                    arguments: ["superbot-cli", "--socket", socketPath] + args,
                    environment: Environment.all(), workingDirectory: dir, outputPath: out))
        else { return (-1, "") }
        let code = Harness.waitForExit(pid, timeout: 60) ?? -1
        let text = (try? FileSystem.readString(out)) ?? ""
        unlink(out)
        return (code, text)
    }

    /// Runs any program to completion (for `superbot --check-config`, a second daemon…).
    public static func run(_ path: String, _ args: [String], cwd: String, output: String) -> Int32 {
        guard
            let pid = try? Spawner.spawn(
                SpawnRequest(
                    executable: path, arguments: [path] + args, environment: Environment.all(), workingDirectory: cwd,
                    outputPath: output))
        else { return -1 }
        return waitForExit(pid, timeout: 30) ?? -1
    }

    /// Exit code of a child (128 + signal when killed), or `nil` on timeout.
    public static func waitForExit(_ pid: pid_t, timeout: Double) -> Int32? {
        let deadline = Clock.monotonic() + timeout
        while Clock.monotonic() < deadline {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                switch TerminationStatus(waitStatus: status) {
                case .exited(let code): return code
                case .signaled(let sig): return 128 + sig
                case .unknown: return -1
                }
            }
            if r < 0 && errno != EINTR { return nil }
            Clock.sleep(0.01)
        }
        return nil
    }

    /// Stops the daemon with SIGTERM and returns its exit code.
    @discardableResult
    public func stopDaemon(timeout: Double = 30) -> Int32? {
        guard let pid = daemonPID else { return nil }
        kill(pid, SIGTERM)
        let code = Harness.waitForExit(pid, timeout: timeout)
        if code == nil {
            kill(pid, SIGKILL)
            _ = Harness.waitForExit(pid, timeout: 5)
        }
        daemonPID = nil
        return code
    }

    public func killDaemonHard() {
        guard let pid = daemonPID else { return }
        kill(pid, SIGKILL)
        _ = Harness.waitForExit(pid, timeout: 5)
        daemonPID = nil
    }

    /// Every live process started under this harness (modules and their descendants).
    /// Module processes this harness's daemon started (they carry its socket).
    public func ownedProcesses() -> [pid_t] { processes(carrying: "SUPERBOT_SOCKET=\(socketPath)") }

    /// The daemon's log writers (`superbot-log`, one per module that ran).
    public func logWriters() -> [pid_t] { processes(carrying: "SUPERBOT_LOG_SOCKET=\(socketPath)") }

    private func processes(carrying entry: String) -> [pid_t] {
        let marker = Array(entry.utf8)
        return FileSystem.listDirectory("/proc").compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let env = try? FileSystem.readFile("/proc/\(name)/environ"),
                env.split(separator: 0).contains(where: { $0.elementsEqual(marker) }),
                let stat = ProcStat.read(pid), !stat.isZombie
            else { return nil }
            return pid
        }
    }

    public func cleanup() {
        if let pid = daemonPID {
            kill(pid, SIGKILL)
            _ = Harness.waitForExit(pid, timeout: 5)
            daemonPID = nil
        }
        for pid in ownedProcesses() + logWriters() { kill(pid, SIGKILL) }
        _ = waitUntil(5) { self.ownedProcesses().isEmpty && self.logWriters().isEmpty }
        removeTree(dir)
    }

    public static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = ProcStat.read(pid) else { return false }
        return !stat.isZombie
    }

    /// A TCP port nobody listens on right now.
    public static func freePort() -> UInt16 {
        guard let fd = try? Socket.listenTCP(host: "127.0.0.1", port: 0) else { return 0 }
        defer { close(fd) }
        return Socket.localPort(fd)
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A raw socket client for protocol tests: sends bytes, reads lines with a deadline.
public final class RawClient {
    public let fd: Int32
    public var framer = LineFramer(maxBytes: 64 << 20)

    public init(_ path: String) throws {
        fd = try Socket.connectUnix(path: path)
        Socket.setReceiveTimeout(fd, seconds: 5)
    }

    deinit { close(fd) }

    public func send(_ text: String) throws { try FileSystem.writeAll(fd, Array(text.utf8)) }

    /// The next line as JSON, or `nil` on EOF / timeout.
    public func readJSON() -> JSON? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let line = try? framer.next() { return try? JSON.parse(line) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            framer.append(buffer[0..<n])
        }
    }

    /// True when the daemon closed the connection (read returns EOF within the timeout).
    public func isClosedByPeer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}
