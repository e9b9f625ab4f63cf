import JSON
import SystemKit

/// The reports `backtest` writes (`reports/<run-id>/report.json`, `report.html`, and
/// `sweep.html` for a sweep), as `superbot-cli backtest list|show` and the web UI find them.
public enum ReportIndex {
    /// Every readable report, oldest first (run ids start with their time).
    public static func all(in directory: String) -> [(id: String, report: JSON)] {
        FileSystem.listDirectory(directory).sorted().compactMap { id in
            report(id, in: directory).map { (id, $0) }
        }
    }

    /// One report; nil for an id that is not a plain directory name or has no readable report.
    public static func report(_ id: String, in directory: String) -> JSON? {
        guard isPlainName(id), let bytes = try? FileSystem.readFile(directory + "/" + id + "/report.json") else {
            return nil
        }
        return try? JSON.parse(bytes)
    }

    /// What a listing shows of a report.
    public static func summary(id: String, report: JSON) -> JSON {
        [
            "id": .string(id), "created": report["created"] ?? .null, "parameters": report["parameters"] ?? .null,
            "statistics": report["statistics"] ?? .null, "bars": report["data"]?["bars"] ?? .null,
        ]
    }

    /// The page of a report (`report.html` or `sweep.html`), never a path outside `directory`.
    public static func page(_ id: String, _ name: String, in directory: String) -> [UInt8]? {
        guard isPlainName(id), name == "report.html" || name == "sweep.html" else { return nil }
        return try? FileSystem.readFile(directory + "/" + id + "/" + name)
    }

    static func isPlainName(_ id: String) -> Bool {
        !id.isEmpty && id != "." && id != ".." && !id.contains("/") && !id.contains("\0")
    }
}
