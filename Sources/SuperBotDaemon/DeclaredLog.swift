/// A family of structured log files a module writes and declared in `rpc.register`
/// (`"logs": {"symbol": "/…/logs/engine-{symbol}-{date}.jsonl"}`), so the daemon follows them
/// without knowing any module's file names. `{date}` is the UTC day (`YYYYMMDD`).
struct DeclaredLog: Equatable {
    /// The parameter that picks one file (`symbol`).
    let key: String
    let template: String
    let module: String

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(key: String, template: String, module: String) throws(Invalid) {
        guard DeclaredLog.isSafe(key) else {
            throw Invalid(description: "log key '\(key)' must be letters, digits, '-' or '_'")
        }
        guard template.hasPrefix("/") else {
            throw Invalid(description: "log template '\(template)' must be an absolute path")
        }
        guard template.contains("{\(key)}") else {
            throw Invalid(description: "log template '\(template)' must contain {\(key)}")
        }
        self.key = key
        self.template = template
        self.module = module
    }

    /// Values become part of a path: nothing that could leave the directory.
    static func isSafe(_ value: String) -> Bool {
        (1...64).contains(value.utf8.count)
            && value.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
            }
    }

    func path(_ value: String, day: String) -> String {
        template.replacing("{\(key)}", with: value).replacing("{date}", with: day)
    }

    /// How the stream is named to clients: the file name without its date (`engine-BTCUSDT`).
    func name(_ value: String) -> String {
        var base = String(template.split(separator: "/").last ?? "")
        for suffix in ["-{date}.jsonl", "{date}.jsonl", ".jsonl"] where base.hasSuffix(suffix) {
            base.removeLast(suffix.count)
            break
        }
        return base.replacing("{\(key)}", with: value)
    }
}
