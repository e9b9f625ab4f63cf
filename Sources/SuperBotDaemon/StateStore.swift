import JSON
import SystemKit

/// `.superbot/state.json`: what must outlive the daemon — which modules an operator stopped.
struct StateStore {
    let path: String
    private(set) var operatorStopped: Set<String> = []

    init(path: String) {
        self.path = path
        if let bytes = try? FileSystem.readFile(path), let json = try? JSON.parse(bytes),
            let names = json["operator_stopped"]?.arrayValue
        {
            operatorStopped = Set(names.compactMap(\.stringValue))
        }
    }

    mutating func setStopped(_ name: String, _ stopped: Bool) {
        let changed = stopped ? operatorStopped.insert(name).inserted : operatorStopped.remove(name) != nil
        guard changed else { return }
        let json: JSON = ["operator_stopped": .array(operatorStopped.sorted().map { .string($0) })]
        try? FileSystem.writeAtomically(path, json.serializedBytes() + [0x0A])
    }
}
