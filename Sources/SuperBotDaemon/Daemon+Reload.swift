import Cache
import Glibc
import JSON
import RPC
import SuperBotConfig
import SuperBotLog
import Supervision
import SystemKit

/// `daemon.reload_config` and SIGHUP: a bad file is refused, a good one applied as a diff.
extension Daemon {
    /// Loads the config again; a bad file is refused and the running config kept. A good one is
    /// applied as a diff: changed modules restart, added ones start (if autostart), removed ones stop.
    func reloadConfig() -> Result<JSON, RPCError> {
        let new: DaemonConfig
        var newInfrastructure: InfrastructureConfig
        do {
            new = try DaemonConfig.load(path: configPath)
            newInfrastructure = try Daemon.loadInfrastructure(next: new)
        } catch {
            logger.error("config.reload_failed", ["error": .string("\(error)")])
            bus.publish(topic: "config.reload_failed", ["error": .string("\(error)")])
            return .failure(.failed("config reload refused; the running configuration is kept: \(error)"))
        }
        var changed: [String] = []
        var added: [String] = []
        var removed: [String] = []
        if new.ipc != config.ipc || new.runDirectory != config.runDirectory {
            logger.warning("ipc and run_dir changes take effect when the daemon restarts")
        }
        var applied = new
        applied.ipc = config.ipc
        applied.runDirectory = config.runDirectory
        let oldNames = Set(modules.keys)
        config = applied
        graph = DependencyGraph(applied.modules + modules.values.filter { applied.module($0.name) == nil }.map(\.spec))
        var toStart: [String] = []
        for spec in applied.modules {
            if let runner = modules[spec.name] {
                guard runner.spec != spec else { continue }
                changed.append(spec.name)
                if !spec.enabled {
                    runner.update(spec: spec)
                    enqueueStop([spec.name])
                } else {
                    runner.update(spec: spec)
                }
            } else {
                modules[spec.name] = ModuleRunner(spec: spec, context: self)
                added.append(spec.name)
                if applied.autostart.contains(spec.name) && !state.operatorStopped.contains(spec.name) {
                    toStart.append(spec.name)
                }
            }
        }
        for name in oldNames where applied.module(name) == nil {
            removed.append(name)
            pendingRemoval.insert(name)
        }
        enqueueStop(removed)
        for name in removed where !(modules[name]?.state.hasProcess ?? false) {
            pendingRemoval.remove(name)
            retire(name)
        }
        enqueueStart(Array(graph.closure(of: toStart)))
        scheduleWatchdog(after: config.watchdog.checkInterval)
        reloadScheduler()
        let infrastructureChanged = newInfrastructure != infrastructure
        if newInfrastructure.cache.maxEntries != cache.maxEntries || newInfrastructure.cache.maxBytes != cache.maxBytes
        {
            // New bounds: a new cache (it only holds copies; modules fill it again).
            logger.info("cache emptied for its new bounds", ["entries": JSON(cache.stats.entries)])
            cache = CacheStore(
                maxEntries: newInfrastructure.cache.maxEntries, maxBytes: newInfrastructure.cache.maxBytes)
        }
        if newInfrastructure.bus != infrastructure.bus
            || newInfrastructure.redis != infrastructure.redis
                && newInfrastructure.bus == .redis
        {
            do {
                try switchBus(to: newInfrastructure)
            } catch {
                // The running backend stays, and so does its setting (a later reload tries again).
                logger.error("bus backend unchanged", ["error": .string("\(error)")])
                newInfrastructure.bus = infrastructure.bus
            }
        }
        if newInfrastructure.cache.backend != infrastructure.cache.backend
            || newInfrastructure.redis != infrastructure.redis
        {
            cacheRemote =
                newInfrastructure.cache.backend == .redis
                ? try? RedisCacheRemote(
                    url: newInfrastructure.redis.url, timeout: newInfrastructure.redis.timeout,
                    prefix: newInfrastructure.redis.prefix, loop: loop) : nil
            cacheRedis = CacheRedisFigures()
        }
        infrastructure = newInfrastructure
        let result: JSON = [
            "changed": .array(changed.sorted().map { .string($0) }),
            "added": .array(added.sorted().map { .string($0) }),
            "removed": .array(removed.sorted().map { .string($0) }),
            "infrastructure_changed": .bool(infrastructureChanged),
        ]
        logger.info("config.reloaded", ["diff": result])
        bus.publish(topic: "config.reloaded", result)
        return .success(result)
    }
}
