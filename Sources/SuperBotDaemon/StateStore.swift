import Glibc
import JSON
import SystemKit

/// `.superbot/state.json`: what must outlive the daemon — which modules an operator stopped, and
/// each scheduled job's last fire time and result (for `catch_up` and `scheduler.list`).
struct StateStore {
    /// One job's record. `since` is when the daemon first scheduled it: the start of the window a
    /// catch-up looks back over when the job has never fired.
    struct JobRecord: Equatable {
        var since: Int64
        var lastFire: Int64?
        var lastRun: Double?
        var result: String?
        var detail: String?
    }

    let path: String
    private(set) var operatorStopped: Set<String> = []
    private(set) var jobs: [String: JobRecord] = [:]
    /// Why the file could not be read as it was, for the daemon to log and publish (`alert.state`).
    private(set) var loadProblem: String?

    var previousPath: String { path + ".prev" }

    /// Reads the file; one that cannot be parsed is moved aside (never silently dropped) and the
    /// previous version, kept by every save, is read instead.
    init(path: String) {
        self.path = path
        guard FileSystem.exists(path) else { return }
        if let bytes = try? FileSystem.readFile(path), let json = try? JSON.parse(bytes), json.objectValue != nil {
            load(json)
            return
        }
        let aside = path + ".corrupt-\(Int(Clock.wall()))"
        rename(path, aside)
        if let bytes = try? FileSystem.readFile(previousPath), let json = try? JSON.parse(bytes),
            json.objectValue != nil
        {
            load(json)
            loadProblem = "\(path) could not be read; it was moved to \(aside) and the previous version was used"
        } else {
            loadProblem =
                "\(path) could not be read and no previous version could either; it was moved to \(aside)"
                + " and the daemon starts with no operator stops or job history"
        }
    }

    private mutating func load(_ json: JSON) {
        if let names = json["operator_stopped"]?.arrayValue {
            operatorStopped = Set(names.compactMap(\.stringValue))
        }
        for (name, value) in json["scheduler"]?.objectValue ?? [:] {
            guard let since = value["since"]?.int64Value else { continue }
            jobs[name] = JobRecord(
                since: since, lastFire: value["last_fire"]?.int64Value, lastRun: value["last_run"]?.doubleValue,
                result: value["result"]?.stringValue, detail: value["detail"]?.stringValue)
        }
    }

    mutating func setStopped(_ name: String, _ stopped: Bool) {
        let changed = stopped ? operatorStopped.insert(name).inserted : operatorStopped.remove(name) != nil
        if changed { save() }
    }

    /// Records jobs seen for the first time (one write for all of them).
    mutating func registerJobs(_ names: [String], now: Int64) {
        let new = names.filter { jobs[$0] == nil }
        guard !new.isEmpty else { return }
        for name in new { jobs[name] = JobRecord(since: now) }
        save()
    }

    mutating func updateJob(_ name: String, now: Int64, _ change: (inout JobRecord) -> Void) {
        var record = jobs[name] ?? JobRecord(since: now)
        change(&record)
        guard record != jobs[name] else { return }
        jobs[name] = record
        save()
    }

    private func save() {
        var scheduler: [String: JSON] = [:]
        for (name, r) in jobs {
            var entry: [String: JSON] = ["since": .integer(r.since)]
            if let v = r.lastFire { entry["last_fire"] = .integer(v) }
            if let v = r.lastRun { entry["last_run"] = JSON(v) }
            if let v = r.result { entry["result"] = .string(v) }
            if let v = r.detail { entry["detail"] = .string(v) }
            scheduler[name] = .object(entry)
        }
        let json: JSON = [
            "operator_stopped": .array(operatorStopped.sorted().map { .string($0) }), "scheduler": .object(scheduler),
        ]
        // The version being replaced stays as `.prev` (a hard link, so the file is never absent).
        unlink(previousPath)
        link(path, previousPath)
        try? FileSystem.writeAtomically(path, json.serializedBytes() + [0x0A])
    }
}
