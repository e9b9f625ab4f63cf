import Glibc

/// Process environment, read without Foundation.
public enum Environment {
    public static func get(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// The whole environment as `KEY=VALUE` strings, in the order the kernel gave it.
    public static func all() -> [String] {
        var out: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            out.append(String(cString: entry))
            cursor += 1
        }
        return out
    }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }
}
