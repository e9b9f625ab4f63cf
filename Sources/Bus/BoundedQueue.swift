/// A FIFO that never holds more than `capacity` elements or `byteLimit` bytes: pushing past either
/// drops the oldest. A subscriber's queue, so a stalled reader costs the daemon bounded memory.
public struct BoundedQueue: Sendable {
    @usableFromInline var items: [[UInt8]] = []
    @usableFromInline var head = 0
    public let capacity: Int
    public let byteLimit: Int
    public private(set) var bytes = 0

    public init(capacity: Int, byteLimit: Int) {
        self.capacity = capacity
        self.byteLimit = byteLimit
    }

    // Inlinable: the relay asks for every message it delivers.
    @inlinable public var count: Int { items.count - head }
    @inlinable public var isEmpty: Bool { count == 0 }

    /// Appends `element`; returns how many old elements were dropped to make room.
    @discardableResult
    public mutating func push(_ element: [UInt8]) -> Int {
        items.append(element)
        bytes += element.count
        var dropped = 0
        while count > capacity || (bytes > byteLimit && count > 1) {
            _ = pop()
            dropped += 1
        }
        return dropped
    }

    public mutating func pop() -> [UInt8]? {
        guard head < items.count else { return nil }
        let element = items[head]
        items[head] = []
        head += 1
        bytes -= element.count
        if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        } else if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return element
    }
}
