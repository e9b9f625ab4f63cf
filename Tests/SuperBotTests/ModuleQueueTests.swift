import Testing

@testable import Supervision

/// The start/stop queue on made-up module states and a manual clock: no daemon, no processes.
@Suite struct ModuleQueueTests {
    /// exchange-sim ← trading ← webui
    final class World {
        var states: [String: ModuleState] = ["exchange-sim": .stopped, "trading": .stopped, "webui": .stopped]
        let dependencies = ["trading": ["exchange-sim"], "webui": ["trading"]]
        var shuttingDown = false
        var value: ModuleQueue.World {
            ModuleQueue.World(
                state: { self.states[$0] }, dependencies: { self.dependencies[$0] ?? [] },
                dependents: { name in self.dependencies.filter { $0.value.contains(name) }.map(\.key).sorted() },
                shuttingDown: shuttingDown)
        }
    }

    /// Every action the queue asks for now, applying starts and stops as `states` says.
    func drain(_ queue: inout ModuleQueue, _ world: World, now: Double = 0, startsAs: ModuleState = .starting)
        -> [ModuleQueue.Action]
    {
        var actions: [ModuleQueue.Action] = []
        while let action = queue.next(world.value, now: now) {
            actions.append(action)
            if case .start(let name) = action { world.states[name] = startsAs }
            if case .stop(let name) = action { world.states[name] = .stopping }
        }
        return actions
    }

    @Test func startsFollowDependenciesOneLayerAtATime() {
        let world = World()
        var queue = ModuleQueue()
        queue.enqueueStart(["exchange-sim", "trading", "webui"])
        #expect(drain(&queue, world) == [.start("exchange-sim")])
        #expect(queue.starts == ["trading", "webui"])
        world.states["exchange-sim"] = .running
        #expect(drain(&queue, world) == [.start("trading")])
        world.states["trading"] = .running
        #expect(drain(&queue, world) == [.start("webui")])
        #expect(!queue.isQueued("webui"))
    }

    @Test func aStartWhoseDependencyWentFatalIsAbandoned() {
        let world = World()
        var queue = ModuleQueue()
        queue.enqueueStart(["exchange-sim", "trading"])
        #expect(drain(&queue, world) == [.start("exchange-sim")])
        world.states["exchange-sim"] = .fatal
        #expect(drain(&queue, world) == [.abandon("trading", dependency: "exchange-sim")])
        #expect(queue.starts.isEmpty)
    }

    @Test func shutdownStopsDependentsFirst() {
        let world = World()
        world.states = ["exchange-sim": .running, "trading": .running, "webui": .running]
        world.shuttingDown = true
        var queue = ModuleQueue()
        queue.enqueueStop(["webui", "trading", "exchange-sim"])
        #expect(drain(&queue, world) == [.stop("webui")])
        world.states["webui"] = .stopped
        #expect(drain(&queue, world) == [.stop("trading")])
        world.states["trading"] = .stopped
        #expect(drain(&queue, world) == [.stop("exchange-sim")])
    }

    @Test func aTargetedStopLeavesRunningDependentsAlone() {
        let world = World()
        world.states = ["exchange-sim": .running, "trading": .running, "webui": .stopped]
        var queue = ModuleQueue()
        queue.enqueueStop(["exchange-sim"])
        #expect(drain(&queue, world) == [.stop("exchange-sim")])
    }

    @Test func aStopCancelsAQueuedStartAndTheOtherWayRound() {
        var queue = ModuleQueue()
        queue.enqueueStart(["trading"])
        queue.enqueueStop(["trading"])
        #expect(queue.starts.isEmpty && queue.stops == ["trading"])
        queue.enqueueStart(["trading"])
        #expect(queue.starts == ["trading"] && queue.stops.isEmpty)
    }

    @Test func waitersAreAnsweredWhenModulesSettleOrAtTheirDeadline() {
        let world = World()
        var queue = ModuleQueue()
        queue.enqueueStart(["exchange-sim", "trading"])
        let both = queue.wait(for: ["exchange-sim", "trading"], stopping: false, deadline: 10)
        let short = queue.wait(for: ["trading"], stopping: false, deadline: 2)
        #expect(queue.nextDeadline == 2)
        #expect(drain(&queue, world, now: 0) == [.start("exchange-sim")])
        world.states["exchange-sim"] = .running
        #expect(drain(&queue, world, now: 1) == [.start("trading")])
        #expect(drain(&queue, world, now: 2.5) == [.timedOut(short)])
        world.states["trading"] = .running
        #expect(drain(&queue, world, now: 3) == [.settled(both)])
        #expect(queue.nextDeadline == nil)
        // A stop settles only once the process is gone; backoff does not count as stopped.
        queue.enqueueStop(["trading"])
        let stop = queue.wait(for: ["trading"], stopping: true, deadline: 20)
        #expect(drain(&queue, world, now: 4) == [.stop("trading")])
        world.states["trading"] = .backoff
        #expect(drain(&queue, world, now: 5).isEmpty)
        world.states["trading"] = .stopped
        #expect(drain(&queue, world, now: 6) == [.settled(stop)])
    }
}
