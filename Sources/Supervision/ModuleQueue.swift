/// The daemon's start and stop queues as a pure value: a module starts once its dependencies
/// run and stops once its dependents are gone, and requests that wait for modules to settle are
/// answered (or time out) from here. `next` returns one action at a time; the caller performs it
/// (which changes module states) and asks again until there is nothing to do.
public struct ModuleQueue: Sendable {
    public typealias WaiterID = Int

    public enum Action: Equatable, Sendable {
        case start(String)
        case stop(String)
        /// A queued start given up because `dependency` is down and not queued to start.
        case abandon(String, dependency: String)
        /// The modules a waiter asked about have settled: answer it.
        case settled(WaiterID)
        /// A waiter's deadline passed first.
        case timedOut(WaiterID)
    }

    /// What the queue reads of the modules, at the moment it is asked.
    public struct World {
        public var state: (String) -> ModuleState?
        public var dependencies: (String) -> [String]
        public var dependents: (String) -> [String]
        public var shuttingDown: Bool

        public init(
            state: @escaping (String) -> ModuleState?, dependencies: @escaping (String) -> [String],
            dependents: @escaping (String) -> [String], shuttingDown: Bool
        ) {
            self.state = state
            self.dependencies = dependencies
            self.dependents = dependents
            self.shuttingDown = shuttingDown
        }
    }

    private struct Waiter: Sendable {
        let id: WaiterID
        let names: [String]
        let stopping: Bool
        let deadline: Double
    }

    public private(set) var starts: [String] = []
    public private(set) var stops: [String] = []
    /// The same names as sets, so that queueing and checking a thousand modules stays linear.
    private var startSet: Set<String> = []
    private var stopSet: Set<String> = []
    private var waiters: [Waiter] = []
    private var lastWaiter = 0

    public init() {}

    /// Queues starts; `names` come in start (dependency) order. A queued stop of the same module is dropped.
    public mutating func enqueueStart(_ names: [String]) {
        let new = names.filter { !startSet.contains($0) }
        let dropped = Set(new).intersection(stopSet)
        if !dropped.isEmpty {
            stops.removeAll { dropped.contains($0) }
            stopSet.subtract(dropped)
        }
        for name in new where startSet.insert(name).inserted { starts.append(name) }
    }

    /// Queues stops; `names` come in stop (reverse dependency) order. A queued start is dropped.
    public mutating func enqueueStop(_ names: [String]) {
        let dropped = Set(names).intersection(startSet)
        if !dropped.isEmpty {
            starts.removeAll { dropped.contains($0) }
            startSet.subtract(dropped)
        }
        for name in names where stopSet.insert(name).inserted { stops.append(name) }
    }

    /// A shutdown: nothing more starts.
    public mutating func cancelStarts() {
        starts = []
        startSet = []
    }

    public func isQueued(_ name: String) -> Bool { startSet.contains(name) || stopSet.contains(name) }

    private mutating func removeStart(at index: Int) {
        startSet.remove(starts.remove(at: index))
    }

    private mutating func removeStop(at index: Int) {
        stopSet.remove(stops.remove(at: index))
    }

    /// Asks to hear (`settled`) when `names` have settled — running, or down for good when
    /// `stopping` — or `timedOut` at `deadline`.
    public mutating func wait(for names: [String], stopping: Bool, deadline: Double) -> WaiterID {
        lastWaiter += 1
        waiters.append(Waiter(id: lastWaiter, names: names, stopping: stopping, deadline: deadline))
        return lastWaiter
    }

    /// Forgets every waiter (the daemon is going away); returns their ids.
    public mutating func cancelWaiters() -> [WaiterID] {
        defer { waiters = [] }
        return waiters.map(\.id)
    }

    /// When the earliest waiter times out: where the caller arms its one timer.
    public var nextDeadline: Double? { waiters.map(\.deadline).min() }

    public mutating func next(_ world: World, now: Double) -> Action? {
        for (index, name) in starts.enumerated() {
            guard world.state(name) != nil else {
                removeStart(at: index)
                return next(world, now: now)
            }
            let dependencies = world.dependencies(name)
            if dependencies.allSatisfy({ world.state($0) == .running }) {
                removeStart(at: index)
                return .start(name)
            }
            if let blocker = dependencies.first(where: { dependency in
                let state = world.state(dependency) ?? .stopped
                return (state == .fatal || state == .stopped || state == .crashed) && !startSet.contains(dependency)
            }) {
                removeStart(at: index)
                return .abandon(name, dependency: blocker)
            }
        }
        for (index, name) in stops.enumerated() {
            // Wait for dependents that are going down too; a targeted stop leaves the others alone.
            let blocked = world.dependents(name).contains { dependent in
                guard let state = world.state(dependent), state.hasProcess else { return false }
                return world.shuttingDown || stopSet.contains(dependent) || state == .stopping
            }
            if !blocked {
                removeStop(at: index)
                return .stop(name)
            }
        }
        if let index = waiters.firstIndex(where: { settled($0, world) }) {
            return .settled(waiters.remove(at: index).id)
        }
        if let index = waiters.firstIndex(where: { $0.deadline <= now }) {
            return .timedOut(waiters.remove(at: index).id)
        }
        return nil
    }

    private func settled(_ waiter: Waiter, _ world: World) -> Bool {
        waiter.names.allSatisfy { name in
            guard let state = world.state(name) else { return true }
            if isQueued(name) { return false }
            switch state {
            case .running, .backoff: return !waiter.stopping
            case .stopped, .fatal, .crashed: return true
            case .starting, .stopping: return false
            }
        }
    }
}
