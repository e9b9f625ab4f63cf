import JSON
import Synchronization

/// The snapshot shared between the poller (writes) and the HTTP loop (reads), with each rendered
/// answer kept until what it shows changes: a poll of `/engines/status` is a dictionary look-up
/// and a copy, however many clients poll, and the poller renders the big answers itself after a
/// refresh (`warm`), so the loop thread does not serialize them while clients wait.
public final class WebState: Sendable {
    public typealias Rendered = (status: Int, body: [UInt8])

    struct Entry {
        var version: Int
        var status: Int
        var body: [UInt8]
    }

    private let snapshot = Mutex(WebSnapshot())
    private let rendered = Mutex([String: Entry]())

    public init() {}

    public var current: WebSnapshot { snapshot.withLock { $0 } }

    /// A change to what the pages show (not to the charts alone): every rendered answer is stale.
    public func update(_ body: (inout WebSnapshot) -> Void) {
        snapshot.withLock { s in
            body(&s)
            s.version += 1
        }
    }

    /// A change to the charts only (`chartVersion`): the tables stay rendered.
    public func updateCharts(_ body: (inout WebSnapshot) -> Void) {
        snapshot.withLock { body(&$0) }
    }

    /// The answer for `key` (a request target) as of the current version (`chart`: of the charts),
    /// rendered at most once per version, with the time of the snapshot's last refresh. A hit
    /// copies no snapshot.
    public func answer(_ key: String, chart: Bool = false, _ render: (WebSnapshot) -> Rendered) -> (
        status: Int, body: [UInt8], updated: Double
    ) {
        let (version, updated) = snapshot.withLock { (chart ? $0.chartVersion : $0.version, $0.updated) }
        if let hit = rendered.withLock({ $0[key] }), hit.version == version { return (hit.status, hit.body, updated) }
        let s = current
        let fresh = render(s)
        store(key, Entry(version: chart ? s.chartVersion : s.version, status: fresh.status, body: fresh.body))
        return (fresh.status, fresh.body, s.updated)
    }

    /// Renders `key` now for the current version (called by the poller, off the loop thread).
    public func warm(_ key: String, _ render: (WebSnapshot) -> Rendered) {
        let s = current
        let fresh = render(s)
        store(key, Entry(version: s.version, status: fresh.status, body: fresh.body))
    }

    private func store(_ key: String, _ entry: Entry) {
        rendered.withLock { r in
            if r.count > 512 && r[key] == nil { r.removeAll(keepingCapacity: true) }
            // A slower render of an older version never replaces a newer one.
            if let old = r[key], old.version > entry.version { return }
            r[key] = entry
        }
    }
}
