import SystemKit

/// The system's tz database (`/usr/share/zoneinfo`, or `$TZDIR`): zones by IANA name, and the list
/// of names for suggestions when one is misspelt.
public struct ZoneDirectory: Sendable {
    public let path: String

    public init(path: String? = nil) {
        self.path = path ?? Environment.get("TZDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/zoneinfo"
    }

    public struct UnknownZone: Error, CustomStringConvertible {
        public let name: String
        public let suggestion: String?
        public let directory: String
        public var description: String {
            let hint = suggestion.map { "; did you mean '\($0)'?" } ?? "; use an IANA name like Europe/Istanbul or UTC"
            return "unknown time zone '\(name)' (not in \(directory))\(hint)"
        }
    }

    /// Loads a zone by name. `UTC` works without a tz database; anything that is not a plain
    /// relative name (`..`, a leading `/`) is refused rather than read.
    public func zone(named name: String) throws -> ZoneInfo {
        let plain =
            !name.isEmpty && name.count <= 64 && !name.hasPrefix("/") && !name.split(separator: "/").contains("..")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/_+-".contains($0)) }
        guard plain else { throw UnknownZone(name: name, suggestion: nil, directory: path) }
        let file = path + "/" + name
        guard !FileSystem.isDirectory(file), let bytes = try? FileSystem.readFile(file) else {
            if name == "UTC" || name == "Etc/UTC" { return .utc }
            throw UnknownZone(name: name, suggestion: suggestion(for: name), directory: path)
        }
        return try ZoneInfo(name: name, tzif: bytes)
    }

    /// Zone names from `tzdata.zi`/`zone1970.tab` when present, else by walking the directory.
    public func names() -> [String] {
        var names: [String] = []
        func walk(_ dir: String, _ prefix: String) {
            for entry in FileSystem.listDirectory(dir) where !entry.hasPrefix(".") {
                let full = dir + "/" + entry
                if FileSystem.isDirectory(full) {
                    if prefix.isEmpty && (entry == "posix" || entry == "right") { continue }
                    walk(full, prefix + entry + "/")
                } else if entry.first?.isUppercase == true {
                    names.append(prefix + entry)
                }
            }
        }
        walk(path, "")
        return names.sorted()
    }

    func suggestion(for name: String) -> String? {
        let all = names()
        let lower = name.lowercased()
        if let city = all.first(where: { $0.lowercased() == lower || $0.lowercased().hasSuffix("/" + lower) }) {
            return city
        }
        return SystemKit.suggestion(for: name, in: all)
    }
}
