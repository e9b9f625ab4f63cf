import Glibc
import SystemKit

/// A fresh directory under /tmp for one test; `removeTree` deletes it again.
public func temporaryDirectory(_ prefix: String = "sbtest") -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    return String(cString: mkdtemp(&template)!)
}

/// Deletes `path` and everything below it (symbolic links are removed, not followed).
public func removeTree(_ path: String) {
    for name in FileSystem.listDirectory(path) {
        let child = path + "/" + name
        var st = stat()
        if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
    }
    rmdir(path)
}

/// Runs a program to completion and returns what it wrote (standard output and error), or
/// throws with that output when it exits non-zero.
public func runProgram(_ path: String, _ arguments: [String]) throws -> String {
    let dir = temporaryDirectory("run")
    defer { removeTree(dir) }
    let out = dir + "/out"
    let pid = try Spawner.spawn(
        SpawnRequest(
            executable: path, arguments: [path] + arguments, environment: Environment.all(), workingDirectory: nil,
            outputPath: out))
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let text = (try? FileSystem.readString(out)) ?? ""
    guard status == 0 else {
        throw ProgramFailed(description: "\(path) exited with status \(status): \(text.suffix(2000))")
    }
    return text
}

public struct ProgramFailed: Error, CustomStringConvertible {
    public let description: String
}
