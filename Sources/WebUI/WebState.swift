import JSON
import Synchronization

/// The snapshot shared between the poller (writes) and the HTTP loop (reads), with each rendered
/// answer kept until the snapshot changes: a poll of `/engines/status` is a dictionary look-up
/// and a copy, however many clients poll.
public final class WebState: Sendable {
    struct Rendered {
        var version = -1
        var bodies: [String: (status: Int, body: [UInt8])] = [:]
    }

    private let snapshot = Mutex(WebSnapshot())
    private let rendered = Mutex(Rendered())

    public init() {}

    public var current: WebSnapshot { snapshot.withLock { $0 } }

    public func update(_ body: (inout WebSnapshot) -> Void) {
        snapshot.withLock { s in
            body(&s)
            s.version += 1
        }
    }

    /// The answer for `key` (a request target) at the current version, rendered at most once per version.
    public func answer(_ key: String, _ render: (WebSnapshot) -> (status: Int, body: [UInt8])) -> (
        status: Int, body: [UInt8]
    ) {
        let s = current
        if let hit = rendered.withLock({ r in r.version == s.version ? r.bodies[key] : nil }) { return hit }
        let fresh = render(s)
        rendered.withLock { r in
            if r.version != s.version || r.bodies.count > 512 {
                r.version = s.version
                r.bodies = [:]
            }
            r.bodies[key] = fresh
        }
        return fresh
    }
}
