import CShim
import Glibc

/// How a child ended. A non-zero exit code is a normal result, not a thrown error.
public enum TerminationStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    /// The process was not our child (adopted), so its status cannot be collected.
    case unknown

    /// Decodes a `waitpid` status word (the W* macros are not imported into Swift).
    public init(waitStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(low)
        }
    }

    public var isSuccess: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with code \(code)"
        case .signaled(let sig): return "killed by signal \(sig) (\(Signals.name(sig)))"
        case .unknown: return "exited (status unknown: not our child)"
        }
    }
}

/// What to start: an argv array, never a shell line (unless the caller puts a shell in argv).
public struct SpawnRequest: Sendable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String]
    public var workingDirectory: String?
    /// stdout and stderr are appended here; `nil` means /dev/null.
    public var outputPath: String?
    /// stdout and stderr go to this descriptor instead (a module's log pipe); it wins over `outputPath`.
    public var outputFD: Int32?
    /// stdin comes from this descriptor instead of /dev/null (a log writer's pipe).
    public var inputFD: Int32?

    public init(
        executable: String, arguments: [String], environment: [String], workingDirectory: String? = nil,
        outputPath: String? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.outputPath = outputPath
    }
}

/// `posix_spawn` with the hygiene supervised children need: an empty signal mask and default
/// dispositions (a parent that blocks or ignores SIGTERM must not pass that on), a new session so the
/// child's whole tree is one process group, descriptors ≥ 3 closed, stdin on /dev/null.
public enum Spawner {
    public static func spawn(_ request: SpawnRequest) throws -> pid_t {
        let outputFD = try output(of: request)
        defer { if outputFD >= 0 && request.outputFD == nil { close(outputFD) } }

        var attr = posix_spawnattr_t()
        try check(posix_spawnattr_init(&attr), "posix_spawnattr_init")
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        // Every result is checked: a child that inherits a blocked SIGTERM could never be stopped.
        try check(posix_spawnattr_setsigmask(&attr, &empty), "posix_spawnattr_setsigmask")
        try check(posix_spawnattr_setsigdefault(&attr, &all), "posix_spawnattr_setsigdefault")
        try check(sb_spawnattr_setflags_session(&attr), "posix_spawnattr_setflags")

        var actions = posix_spawn_file_actions_t()
        try check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init")
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input = request.inputFD {
            try check(posix_spawn_file_actions_adddup2(&actions, input, 0), "posix_spawn_file_actions_adddup2")
        } else {
            try check(
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0),
                "posix_spawn_file_actions_addopen")
        }
        if outputFD >= 0 {
            try check(posix_spawn_file_actions_adddup2(&actions, outputFD, 1), "posix_spawn_file_actions_adddup2")
            try check(posix_spawn_file_actions_adddup2(&actions, outputFD, 2), "posix_spawn_file_actions_adddup2")
        } else {
            try check(
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0),
                "posix_spawn_file_actions_addopen")
            try check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "posix_spawn_file_actions_adddup2")
        }
        if let cwd = request.workingDirectory {
            try check(sb_spawn_file_actions_addchdir(&actions, cwd), "addchdir")
        }
        try check(sb_spawn_file_actions_addclosefrom(&actions, 3), "addclosefrom")

        var pid: pid_t = 0
        let rc = withArguments(of: request) { argv, envp in
            posix_spawn(&pid, request.executable, &actions, &attr, argv, envp)
        }
        if rc != 0 { throw SystemError("posix_spawn", errno: rc, detail: request.executable) }
        return pid
    }

    /// The same child, born inside the cgroup v2 directory `cgroupFD` (clone3 with
    /// CLONE_INTO_CGROUP, as glibc 2.41's `posix_spawnattr_setcgroup_np`; this glibc is older), so
    /// it cannot fork before it is a member. nil when the kernel refuses clone3 or the flag (an
    /// older kernel, a seccomp filter): then spawn and move it in.
    public static func spawn(_ request: SpawnRequest, intoCgroup cgroupFD: Int32) throws -> pid_t? {
        let outputFD = try output(of: request)
        defer { if outputFD >= 0 && request.outputFD == nil { close(outputFD) } }
        var step: Int32 = 0
        let pid = withArguments(of: request) { argv, envp in
            sb_spawn_into_cgroup(
                cgroupFD, request.executable, argv, envp, request.inputFD ?? -1, outputFD, request.workingDirectory,
                &step)
        }
        if pid > 0 { return pid }
        switch Int(step) {
        case 0: return nil
        case Int(SB_SPAWN_STEP_CHDIR):
            throw SystemError("chdir", errno: -pid, detail: request.workingDirectory ?? "")
        case Int(SB_SPAWN_STEP_EXEC): throw SystemError("execve", errno: -pid, detail: request.executable)
        default: throw SystemError(step == SB_SPAWN_STEP_SETSID ? "setsid" : "dup2", errno: -pid)
        }
    }

    /// argv (the executable's path when the request gives none) and the environment as C string
    /// arrays, for the length of `body`.
    private static func withArguments<T>(
        of request: SpawnRequest,
        _ body: ([UnsafeMutablePointer<CChar>?], [UnsafeMutablePointer<CChar>?]) -> T
    ) -> T {
        let argv = CStringArray(request.arguments.isEmpty ? [request.executable] : request.arguments)
        let envp = CStringArray(request.environment)
        defer {
            argv.free()
            envp.free()
        }
        return body(argv.pointers, envp.pointers)
    }

    /// The child's stdout and stderr: the request's descriptor, its file opened for appending, or
    /// -1 for /dev/null.
    private static func output(of request: SpawnRequest) throws -> Int32 {
        if let fd = request.outputFD { return fd }
        guard let path = request.outputPath else { return -1 }
        return try retryingOnEINTR("open", detail: path) {
            open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        }
    }

    private static func check(_ rc: Int32, _ call: String) throws {
        if rc != 0 { throw SystemError(call, errno: rc) }
    }

    /// Collects every exited child without blocking (the body of the SIGCHLD handler).
    public static func reapChildren() -> [(pid: pid_t, status: TerminationStatus)] {
        var reaped: [(pid_t, TerminationStatus)] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                reaped.append((pid, TerminationStatus(waitStatus: status)))
            } else if pid < 0 && errno == EINTR {
                continue
            } else {
                return reaped
            }
        }
    }

    /// Finds `name` the way a supervisor operator expects: a path as given (relative to `base`),
    /// else next to the running binary (for our own modules), else on `$PATH`.
    public static func resolveExecutable(_ name: String, base: String, searchPath: String?, siblingsFirst: Bool = true)
        -> String?
    {
        if name.contains("/") {
            let path = FileSystem.resolve(name, against: base)
            return FileSystem.isExecutableFile(path) ? FileSystem.absolute(path) : nil
        }
        var dirs = siblingsFirst ? [FileSystem.executableDirectory()] : []
        dirs += (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        for dir in dirs where FileSystem.isExecutableFile(dir + "/" + name) {
            return FileSystem.absolute(dir + "/" + name)
        }
        return nil
    }
}

/// A NULL-terminated `char *[]` built from Swift strings.
struct CStringArray {
    var pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    func free() {
        for p in pointers { Glibc.free(p) }
    }
}
