/// Subscriptions indexed by pattern segments, so matching a topic walks at most a few paths
/// instead of testing every subscription. Results are cached per topic (topics repeat: a
/// trading system publishes on a few hundred), and the cache is dropped on any change.
public struct SubscriptionTrie<ID: Hashable & Sendable>: Sendable {
    final class Node: @unchecked Sendable {
        var children: [Substring: Node] = [:]
        var star: Node?
        /// Subscribers whose pattern ends here.
        var exact: Set<ID> = []
        /// Subscribers whose pattern ends here with `>` (one or more further segments).
        var tail: Set<ID> = []

        var isEmpty: Bool { children.isEmpty && star == nil && exact.isEmpty && tail.isEmpty }
    }

    private var root = Node()
    private var cache: [String: [ID]] = [:]
    public private(set) var count = 0
    public let cacheLimit: Int

    public init(cacheLimit: Int = 10_000) { self.cacheLimit = cacheLimit }

    /// Adds `id` under `pattern` (validated by the caller); returns false if it was already there.
    @discardableResult
    public mutating func insert(_ pattern: String, _ id: ID) -> Bool {
        if !isKnownUniquelyReferenced(&root) { root = root.copy() }
        var node = root
        let segments = pattern.split(separator: ".")
        for (i, segment) in segments.enumerated() {
            if segment == ">" && i == segments.count - 1 {
                let inserted = node.tail.insert(id).inserted
                if inserted {
                    count += 1
                    cache = [:]
                }
                return inserted
            }
            if segment == "*" {
                if node.star == nil { node.star = Node() }
                node = node.star!
            } else {
                if node.children[segment] == nil { node.children[segment] = Node() }
                node = node.children[segment]!
            }
        }
        let inserted = node.exact.insert(id).inserted
        if inserted {
            count += 1
            cache = [:]
        }
        return inserted
    }

    @discardableResult
    public mutating func remove(_ pattern: String, _ id: ID) -> Bool {
        if !isKnownUniquelyReferenced(&root) { root = root.copy() }
        let removed = Self.remove(pattern.split(separator: ".")[...], id, from: root)
        if removed {
            count -= 1
            cache = [:]
        }
        return removed
    }

    private static func remove(_ segments: ArraySlice<Substring>, _ id: ID, from node: Node) -> Bool {
        guard let segment = segments.first else { return node.exact.remove(id) != nil }
        if segment == ">" && segments.count == 1 { return node.tail.remove(id) != nil }
        let child = segment == "*" ? node.star : node.children[segment]
        guard let child, remove(segments.dropFirst(), id, from: child) else { return false }
        if child.isEmpty {
            if segment == "*" { node.star = nil } else { node.children[segment] = nil }
        }
        return true
    }

    /// Every subscriber with at least one pattern matching `topic`, each once.
    public mutating func match(_ topic: String) -> [ID] {
        if let hit = cache[topic] { return hit }
        var found = Set<ID>()
        let segments = topic.split(separator: ".")
        Self.collect(segments[...], root, into: &found)
        let result = Array(found)
        if cache.count >= cacheLimit { cache = [:] }
        cache[topic] = result
        return result
    }

    private static func collect(_ segments: ArraySlice<Substring>, _ node: Node, into found: inout Set<ID>) {
        guard let segment = segments.first else {
            found.formUnion(node.exact)
            return
        }
        found.formUnion(node.tail)
        let rest = segments.dropFirst()
        if let child = node.children[segment] { collect(rest, child, into: &found) }
        if let star = node.star { collect(rest, star, into: &found) }
    }
}

extension SubscriptionTrie.Node {
    func copy() -> SubscriptionTrie.Node {
        let n = SubscriptionTrie.Node()
        n.children = children.mapValues { $0.copy() }
        n.star = star?.copy()
        n.exact = exact
        n.tail = tail
        return n
    }
}
