import JSON
import Supervision
import SystemKit

/// Moves modules through the start/stop queue (`ModuleQueue`, a pure value) and answers requests
/// waiting for modules to settle.
extension Daemon {
    /// Called after every lifecycle step: moves the queue, answers waiting requests, and finishes
    /// a shutdown once no module has a process.
    func moduleStateChanged(_ runner: ModuleRunner) {
        if pendingRemoval.contains(runner.name) && !runner.state.hasProcess {
            pendingRemoval.remove(runner.name)
            retire(runner.name)
        }
        schedulerModuleChanged(runner)
        paramRunChanged(runner)
        advanceQueues()
        if isShuttingDown && !finished && modules.values.allSatisfy({ !$0.state.hasProcess }) && queue.stops.isEmpty {
            finishShutdown()
        }
    }

    /// A run started with `params` ends when its process is gone (restarts keep the arguments).
    func paramRunChanged(_ runner: ModuleRunner) {
        guard let sawProcess = paramRuns[runner.name] else { return }
        if runner.state.hasProcess {
            paramRuns[runner.name] = true
        } else if (sawProcess || runner.state == .fatal) && runner.state != .backoff {
            paramRuns[runner.name] = nil
            runner.runArguments = []
        }
    }

    /// Drops a runner a reload removed, once nothing of it can call back.
    func retire(_ name: String) {
        modules.removeValue(forKey: name)?.retire()
    }

    func enqueueStart(_ names: [String]) {
        let wanted = Set(names)
        var ordered: [String] = []
        for name in graph.startOrder() where wanted.contains(name) {
            guard let runner = modules[name] else { continue }
            if !runner.spec.enabled {
                logger.warning("not starting a disabled module", ["module": .string(name)])
                continue
            }
            ordered.append(name)
        }
        queue.enqueueStart(ordered)
        advanceQueues()
    }

    func enqueueStop(_ names: [String]) {
        let wanted = Set(names)
        queue.enqueueStop(graph.startOrder().reversed().filter { wanted.contains($0) })
        advanceQueues()
    }

    /// Calls `done` once `names` have settled (running, or down when `stopping`), or `timedOut` after `timeout`.
    func wait(
        for names: [String], stopping: Bool, timeout: Double, then done: @escaping () -> Void,
        timedOut: @escaping () -> Void
    ) {
        let id = queue.wait(for: names, stopping: stopping, deadline: Clock.monotonic() + timeout)
        waiters[id] = (done, timedOut)
        advanceQueues()
    }

    /// Performs what the queue asks until it has nothing more; module changes made here re-enter
    /// through `moduleStateChanged`, which the guard turns into another turn of this loop.
    func advanceQueues() {
        guard !advancing else { return }
        advancing = true
        defer { advancing = false }
        let world = ModuleQueue.World(
            state: { [unowned self] in modules[$0]?.state },
            dependencies: { [unowned self] in graph.dependencies(of: $0) },
            dependents: { [unowned self] in graph.dependents(of: $0) }, shuttingDown: isShuttingDown)
        while let action = queue.next(world, now: Clock.monotonic()) {
            switch action {
            case .start(let name): modules[name]?.start()
            case .stop(let name): modules[name]?.stop()
            case .abandon(let name, let dependency):
                logger.error(
                    "not starting module: a dependency is down",
                    [
                        "module": .string(name), "dependency": .string(dependency),
                        "state": .string(modules[dependency]?.state.rawValue ?? "missing"),
                    ])
            case .settled(let id): waiters.removeValue(forKey: id)?.done()
            case .timedOut(let id): waiters.removeValue(forKey: id)?.timedOut()
            }
        }
        armWaiterTimer()
    }

    private func armWaiterTimer() {
        loop.cancel(waiterTimer)
        waiterTimer = nil
        guard let deadline = queue.nextDeadline else { return }
        waiterTimer = loop.schedule(after: deadline - Clock.monotonic()) { [unowned self] in
            waiterTimer = nil
            advanceQueues()
        }
    }
}
