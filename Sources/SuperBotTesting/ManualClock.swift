import Synchronization
import SystemKit

/// A wall clock that moves only when a test says so.
public final class ManualClock: WallClock {
    private let current: PThreadLocked<Double>

    public init(_ start: Double = 1_800_000_000) { current = PThreadLocked(start) }

    public func now() -> Double { current.withLock { $0 } }

    public func advance(by seconds: Double) { current.withLock { $0 += seconds } }

    public func set(_ seconds: Double) { current.withLock { $0 = seconds } }
}
