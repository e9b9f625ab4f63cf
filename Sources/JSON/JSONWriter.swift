/// Writes JSON text straight into a byte buffer, without building a `JSON` value first: for the
/// big answers (an order book, a thousand klines), where the value tree costs more than the text.
/// Commas are placed for the caller; keys are written in the order given.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Per open container: whether it already holds an element (so the next one needs a comma).
    private var filled: [Bool] = []
    private var afterKey = false

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    public mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        appendString(value)
    }

    public mutating func integer(_ value: Int64) {
        separate()
        appendInteger(value)
    }

    public mutating func number(_ value: Double) {
        separate()
        JSON.appendNumber(value, to: &bytes)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        appendLiteral(value ? "true" : "false")
    }

    public mutating func null() {
        separate()
        appendLiteral("null")
    }

    /// A value that is already JSON text (a nested `JSON`, or bytes passed through).
    public mutating func raw(_ json: JSON) {
        separate()
        json.write(to: &bytes)
    }

    // MARK: Internals

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        filled.append(false)
    }

    private mutating func close(_ bracket: UInt8) {
        precondition(!filled.isEmpty && !afterKey, "JSONWriter: unbalanced \(Character(Unicode.Scalar(bracket)))")
        filled.removeLast()
        bytes.append(bracket)
    }

    /// The comma before a value in a container that already has one (not after a key).
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = filled.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) }
        filled[filled.count - 1] = true
    }

    private mutating func appendLiteral(_ text: String) { bytes.append(contentsOf: text.utf8) }

    private mutating func appendInteger(_ value: Int64) { JSON.appendInteger(value, to: &bytes) }

    private mutating func appendString(_ value: String) { JSON.appendString(value, to: &bytes) }
}
