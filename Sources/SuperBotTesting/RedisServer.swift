import Glibc
import SystemKit

/// A real `redis-server` of its own for one test: a Unix socket (and a TCP port when asked) in
/// a temporary directory, no persistence; stopped and removed on `stop()` or deinit.
public final class RedisServer {
    public let dir: String
    public let socketPath: String
    public let port: UInt16
    public private(set) var pid: pid_t = 0
    let extra: [String]

    public static var isInstalled: Bool { FileSystem.isExecutableFile("/usr/bin/redis-server") }

    /// `password`: `requirepass`. `tcp`: listen on a free loopback port too.
    public init(password: String? = nil, tcp: Bool = false) throws {
        dir = temporaryDirectory("redis")
        socketPath = dir + "/redis.sock"
        port = tcp ? Harness.freePort() : 0
        extra = password.map { ["--requirepass", $0] } ?? []
        try start()
    }

    /// Starts it (again, after `kill`) on the same socket and port.
    public func start() throws {
        let args =
            [
                "redis-server", "--port", String(port), "--bind", "127.0.0.1", "--unixsocket", socketPath,
                "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", dir,
            ] + extra
        pid = try Spawner.spawn(
            SpawnRequest(
                executable: "/usr/bin/redis-server", arguments: args, environment: Environment.all(),
                workingDirectory: dir, outputPath: dir + "/redis.out"))
        let path = socketPath
        let up = waitUntil(10) {
            guard let fd = try? Socket.connectUnix(path: path) else { return false }
            close(fd)
            return true
        }
        if !up {
            throw HarnessError("redis-server did not start: \((try? FileSystem.readString(dir + "/redis.out")) ?? "")")
        }
    }

    public func kill() {
        guard pid > 0 else { return }
        Glibc.kill(pid, SIGKILL)
        _ = Harness.waitForExit(pid, timeout: 5)
        pid = 0
        unlink(socketPath)
    }

    public var unixURL: String { "unix://" + socketPath }
    public var tcpURL: String { "redis://127.0.0.1:\(port)/0" }

    deinit {
        kill()
        removeTree(dir)
    }
}
