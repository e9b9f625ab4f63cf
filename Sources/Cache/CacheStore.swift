/// The daemon's shared cache as a plain value: byte values under string keys, each with its
/// own time to live, evicted least recently used first when the entry or byte bound is
/// reached. Time comes in as `now` (monotonic seconds), so tests drive it with a manual clock.
/// Every operation is O(1) but `purgeExpired`.
public struct CacheStore: Sendable {
    public struct Stats: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
        /// Entries pushed out by the bounds (least recently used first).
        public var evictions = 0
        /// Entries found or swept past their TTL.
        public var expirations = 0
        public var sets = 0
        public var deletes = 0
        public var entries = 0
        /// Keys and values together.
        public var bytes = 0

        public var hitRate: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    }

    private struct Node: Sendable {
        var key: String
        var value: [UInt8]
        var expires: Double
        var newer = -1
        var older = -1
        var size: Int { key.utf8.count + value.count }
    }

    public let maxEntries: Int
    public let maxBytes: Int
    public private(set) var stats = Stats()
    private var nodes: [Node?] = []
    private var free: [Int] = []
    private var index: [String: Int] = [:]
    /// Most and least recently used.
    private var newest = -1
    private var oldest = -1

    public init(maxEntries: Int, maxBytes: Int) {
        self.maxEntries = max(1, maxEntries)
        self.maxBytes = max(1, maxBytes)
    }

    /// The value, or nil when absent or expired (an expired entry is dropped on the way).
    public mutating func get(_ key: String, now: Double) -> [UInt8]? {
        guard let i = index[key] else {
            stats.misses += 1
            return nil
        }
        if nodes[i]!.expires <= now {
            remove(i)
            stats.expirations += 1
            stats.misses += 1
            return nil
        }
        stats.hits += 1
        touch(i)
        return nodes[i]!.value
    }

    /// Seconds `key` has left, without counting as a use.
    public func ttl(_ key: String, now: Double) -> Double? {
        guard let i = index[key], nodes[i]!.expires > now else { return nil }
        return nodes[i]!.expires - now
    }

    /// Stores `value` for `ttl` seconds; false when it alone is larger than the byte bound.
    @discardableResult
    public mutating func set(_ key: String, _ value: [UInt8], ttl: Double, now: Double) -> Bool {
        let size = key.utf8.count + value.count
        guard size <= maxBytes else { return false }
        stats.sets += 1
        if let i = index[key] {
            stats.bytes += size - nodes[i]!.size
            nodes[i]!.value = value
            nodes[i]!.expires = now + ttl
            touch(i)
        } else {
            let node = Node(key: key, value: value, expires: now + ttl)
            let i: Int
            if let slot = free.popLast() {
                nodes[slot] = node
                i = slot
            } else {
                nodes.append(node)
                i = nodes.count - 1
            }
            index[key] = i
            link(i)
            stats.entries += 1
            stats.bytes += size
        }
        while stats.entries > maxEntries || stats.bytes > maxBytes, oldest >= 0, oldest != index[key] {
            remove(oldest)
            stats.evictions += 1
        }
        return true
    }

    @discardableResult
    public mutating func delete(_ key: String) -> Bool {
        guard let i = index[key] else { return false }
        remove(i)
        stats.deletes += 1
        return true
    }

    /// Drops every expired entry (the daemon calls it on its watchdog timer); returns how many.
    @discardableResult
    public mutating func purgeExpired(now: Double) -> Int {
        var dropped = 0
        for case (let i, let node?) in nodes.enumerated() where node.expires <= now {
            remove(i)
            dropped += 1
        }
        stats.expirations += dropped
        return dropped
    }

    public mutating func removeAll() {
        let kept = stats
        self = CacheStore(maxEntries: maxEntries, maxBytes: maxBytes)
        stats = kept
        stats.entries = 0
        stats.bytes = 0
    }

    /// Keys from the most to the least recently used (tests, `cache.stats`' sample).
    public func keysByRecency() -> [String] {
        var out: [String] = []
        var i = newest
        while i >= 0 {
            out.append(nodes[i]!.key)
            i = nodes[i]!.older
        }
        return out
    }

    // MARK: The recency list

    private mutating func link(_ i: Int) {
        nodes[i]!.older = newest
        nodes[i]!.newer = -1
        if newest >= 0 { nodes[newest]!.newer = i }
        newest = i
        if oldest < 0 { oldest = i }
    }

    private mutating func unlink(_ i: Int) {
        let (newer, older) = (nodes[i]!.newer, nodes[i]!.older)
        if newer >= 0 { nodes[newer]!.older = older } else { newest = older }
        if older >= 0 { nodes[older]!.newer = newer } else { oldest = newer }
    }

    private mutating func touch(_ i: Int) {
        guard newest != i else { return }
        unlink(i)
        link(i)
    }

    private mutating func remove(_ i: Int) {
        unlink(i)
        let node = nodes[i]!
        index[node.key] = nil
        stats.entries -= 1
        stats.bytes -= node.size
        nodes[i] = nil
        free.append(i)
    }
}
