import JSON

/// One message from the bus, as a subscriber sees it.
public struct BusMessage: Sendable, Equatable {
    public var topic: String
    public var data: JSON
    /// The publishing module (or `daemon`, `client`, `pid:<n>`).
    public var source: String
    /// The daemon's sequence number: increasing, so gaps show dropped messages.
    public var seq: Int
    /// Seconds since the Unix epoch when the daemon relayed it.
    public var timestamp: Double

    init?(_ params: JSON?) {
        guard let params, let topic = params["topic"]?.stringValue else { return nil }
        self.topic = topic
        data = params["data"] ?? .null
        source = params["source"]?.stringValue ?? ""
        seq = params["seq"]?.intValue ?? 0
        timestamp = params["ts"]?.doubleValue ?? 0
    }
}

public struct ModuleError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
