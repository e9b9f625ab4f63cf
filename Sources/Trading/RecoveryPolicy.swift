import TradingSettings

/// When a failed engine may start again: at most `maxRestartsPerHour` restarts in any hour,
/// each after a delay that doubles from `backoff` up to `maxBackoff`. A pure value: the clock
/// is passed in.
public struct RecoveryPolicy: Sendable, Equatable {
    public let settings: TradingConfig.Recovery
    public private(set) var restarts: [Double] = []

    public init(_ settings: TradingConfig.Recovery) { self.settings = settings }

    public enum Decision: Equatable, Sendable {
        case restart(after: Double)
        case giveUp(String)
    }

    /// Records a failure at `now` and says what to do about it.
    public mutating func onFailure(now: Double) -> Decision {
        restarts.removeAll { now - $0 >= 3600 }
        guard restarts.count < settings.maxRestartsPerHour else {
            return .giveUp(
                "\(restarts.count) restarts within the last hour (limit \(settings.maxRestartsPerHour)); start it by hand once the cause is fixed"
            )
        }
        let delay = min(settings.maxBackoff, settings.backoff * Double(1 << min(restarts.count, 30)))
        restarts.append(now)
        return .restart(after: delay)
    }

    /// Restarts within the last hour.
    public func recentRestarts(now: Double) -> Int { restarts.filter { now - $0 < 3600 }.count }

    /// An operator's start clears the history.
    public mutating func reset() { restarts = [] }
}
