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
