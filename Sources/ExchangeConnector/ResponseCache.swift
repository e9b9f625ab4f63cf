import ExchangeModel
import JSON
import Synchronization
import SystemKit

/// Answers of market-data endpoints kept for a time-to-live per kind (ticker, order book,
/// klines), bounded in size (least recently used entries go first), with hit and miss counts.
public final class ResponseCache: Sendable {
    public struct KindStats: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        public var hitRate: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    }

    struct Entry {
        var value: JSON
        var expires: Double
        var lastUsed: UInt64
    }

    struct State {
        var entries: [String: Entry] = [:]
        var stats: [String: KindStats] = [:]
        var clock: UInt64 = 0
    }

    public let maxEntries: Int
    private let state = Mutex(State())

    public init(maxEntries: Int = 10_000) { self.maxEntries = maxEntries }

    public func get(_ key: String, kind: String) -> JSON? {
        state.withLock { s in
            s.clock += 1
            if var entry = s.entries[key], entry.expires > Clock.monotonic() {
                entry.lastUsed = s.clock
                s.entries[key] = entry
                s.stats[kind, default: KindStats()].hits += 1
                return entry.value
            }
            s.stats[kind, default: KindStats()].misses += 1
            return nil
        }
    }

    public func set(_ key: String, _ value: JSON, ttl: Double) {
        guard ttl > 0 else { return }
        state.withLock { s in
            s.clock += 1
            s.entries[key] = Entry(value: value, expires: Clock.monotonic() + ttl, lastUsed: s.clock)
            if s.entries.count > maxEntries {
                let now = Clock.monotonic()
                s.entries = s.entries.filter { $0.value.expires > now }
                while s.entries.count > maxEntries,
                    let oldest = s.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })
                {
                    s.entries.removeValue(forKey: oldest.key)
                }
            }
        }
    }

    public var stats: [String: KindStats] { state.withLock { $0.stats } }
}
