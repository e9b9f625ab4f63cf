/// Local publishes on their way to Redis, as the loop hands them to the publishing thread: the
/// data of every message back to back in one buffer, and runs of messages that share a topic and
/// a source. Appending a message allocates nothing and touches no shared reference count, and
/// the thread reads each topic once per run, not once per message.
struct PendingPublishes: Sendable {
    struct Run: Sendable {
        let topic: String
        let source: String
        /// Where each message's data ends in `bytes`.
        var ends: [Int]
    }

    /// A run never grows past this: one run is one PUBLISH, and Redis reads it whole.
    static let runLimit = 256

    private(set) var bytes: [UInt8] = []
    private(set) var runs: [Run] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(topic: String, data: ArraySlice<UInt8>, source: String) {
        bytes.append(contentsOf: data)
        count += 1
        if let last = runs.indices.last, runs[last].ends.count < PendingPublishes.runLimit,
            runs[last].topic == topic, runs[last].source == source
        {
            runs[last].ends.append(bytes.count)
        } else {
            runs.append(Run(topic: topic, source: source, ends: [bytes.count]))
        }
    }

    /// Appends at most `limit` of `other`'s messages, in order; returns how many.
    @discardableResult
    mutating func append(_ other: PendingPublishes, limit: Int) -> Int {
        if isEmpty && other.count <= limit {
            self = other
            return other.count
        }
        var taken = 0
        other.forEachMessage { topic, data, source in
            guard taken < limit else { return }
            append(topic: topic, data: data, source: source)
            taken += 1
        }
        return taken
    }

    /// Each message in order.
    func forEachMessage(_ body: (_ topic: String, _ data: ArraySlice<UInt8>, _ source: String) -> Void) {
        var start = 0
        for run in runs {
            for end in run.ends {
                body(run.topic, bytes[start..<end], run.source)
                start = end
            }
        }
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        runs.removeAll(keepingCapacity: true)
        count = 0
    }
}
