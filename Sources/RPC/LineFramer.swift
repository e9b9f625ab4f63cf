/// Splits a byte stream into `\n`-terminated messages, refusing any message longer than `maxBytes`
/// so one client cannot make the daemon buffer without bound.
public struct LineFramer: Sendable {
    public struct TooLarge: Error, Equatable, Sendable {
        public let limit: Int
    }

    public let maxBytes: Int
    private var buffer: [UInt8] = []
    private var scanned = 0

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 { buffer.append(contentsOf: bytes) }

    /// The next complete line (without `\n`, and without a trailing `\r`), `nil` if none is complete yet.
    public mutating func next() throws -> [UInt8]? {
        if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
            if newline > maxBytes { throw TooLarge(limit: maxBytes) }
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            scanned = 0
            if line.last == 0x0D { line.removeLast() }
            return line
        }
        scanned = buffer.count
        if buffer.count > maxBytes { throw TooLarge(limit: maxBytes) }
        return nil
    }

    public var bufferedBytes: Int { buffer.count }
}
