/// The last `capacity` events sent to dashboards, each with an increasing id, so a client that
/// reconnects with `Last-Event-ID` gets what it missed — or learns that the ring moved past it.
public struct EventRing: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: Int
        public var bytes: [UInt8]
    }

    public let capacity: Int
    private var entries: [Entry] = []
    private var head = 0
    public private(set) var lastID = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        entries.reserveCapacity(min(capacity, 4096))
    }

    public var count: Int { entries.count }

    /// Appends an event; `encode` receives its id.
    @discardableResult
    public mutating func append(_ encode: (Int) -> [UInt8]) -> Entry {
        lastID += 1
        let entry = Entry(id: lastID, bytes: encode(lastID))
        if entries.count < capacity {
            entries.append(entry)
        } else {
            entries[head] = entry
            head = (head + 1) % capacity
        }
        return entry
    }

    /// Oldest first.
    public var all: [Entry] { Array(entries[head...] + entries[..<head]) }

    /// Events after `id`, oldest first; `nil` when some of them already left the ring (the client
    /// missed events and should reload its state).
    public func after(_ id: Int) -> [Entry]? {
        guard id < lastID else { return [] }
        let ordered = all
        guard let first = ordered.first, first.id <= id + 1 else { return nil }
        return ordered.filter { $0.id > id }
    }
}
