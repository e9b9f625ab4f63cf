import Glibc

/// Splits a byte stream into `\n`-terminated messages, refusing any message longer than `maxBytes`
/// so one client cannot make the daemon buffer without bound. Consumed bytes are dropped lazily,
/// so a read holding many messages costs one scan, not one shift per message.
public struct LineFramer: Sendable {
    public struct TooLarge: Error, Equatable, Sendable {
        public let limit: Int
    }

    public let maxBytes: Int
    private var buffer: [UInt8] = []
    /// Start of the bytes not yet returned.
    private var head = 0
    /// Everything before this index has been searched for a newline already.
    private var scanned = 0

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            head = 0
            scanned = 0
        } else if head >= 1 << 16 && head * 2 >= buffer.count {
            buffer.removeFirst(head)
            scanned -= head
            head = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line (without `\n`, and without a trailing `\r`), `nil` if none is complete yet.
    public mutating func next() throws -> [UInt8]? {
        let from = max(scanned, head)
        let newline: Int? = buffer.withUnsafeBufferPointer { all in
            guard from < all.count, let hit = memchr(all.baseAddress! + from, 0x0A, all.count - from) else {
                return nil
            }
            return all.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        guard let newline else {
            scanned = buffer.count
            if buffer.count - head > maxBytes { throw TooLarge(limit: maxBytes) }
            return nil
        }
        if newline - head > maxBytes { throw TooLarge(limit: maxBytes) }
        var end = newline
        if end > head && buffer[end - 1] == 0x0D { end -= 1 }
        let line = Array(buffer[head..<end])
        head = newline + 1
        scanned = head
        return line
    }

    public var bufferedBytes: Int { buffer.count - head }
}
