import Glibc
import JSON
import RPC
import SuperBotConfig
import Supervision
import SystemKit

/// `monitoring.*`: health, counters and /proc figures.
extension Daemon {
    var monitoringMethods: MethodNamespace {
        MethodNamespace("monitoring", ["health", "metrics", "resources"]) { [unowned self] request, _, reply in
            switch request.method {
            case "monitoring.health": reply(.success(health()))
            case "monitoring.metrics": reply(.success(metricsJSON()))
            default: reply(.success(resourcesJSON()))
            }
        }
    }

    func health() -> JSON {
        var moduleStates: [String: JSON] = [:]
        var failing: [JSON] = []
        for runner in modules.values {
            moduleStates[runner.name] = .string(runner.state.rawValue)
            let expected =
                runner.spec.enabled && config.autostart.contains(runner.name)
                && !state.operatorStopped.contains(runner.name)
            if expected && runner.state != .running { failing.append(.string(runner.name)) }
        }
        let status = isShuttingDown ? "stopping" : failing.isEmpty ? "ok" : "degraded"
        return [
            "status": .string(status), "modules": .object(moduleStates), "failing": .array(failing),
            "uptime_seconds": JSON((Clock.monotonic() - startedMono).rounded(.down)),
        ]
    }

    func metricsJSON() -> JSON {
        var o = metrics.json.objectValue ?? [:]
        o.merge(server.counters.json) { $1 }
        o["rpc.connections"] = JSON(server.connections.count)
        o["logs.followers"] = JSON(followers.count)
        o["bus.published"] = JSON(bus.published)
        o["bus.delivered"] = JSON(bus.delivered)
        o["bus.subscriptions"] = JSON(bus.subscriptionCount)
        o["rpc.registered_methods"] = JSON(registeredMethods.count)
        o["modules.total"] = JSON(modules.count)
        for state in ModuleState.allCases {
            o["modules.\(state.rawValue)"] = JSON(modules.values.filter { $0.state == state }.count)
        }
        o["daemon.uptime_seconds"] = JSON((Clock.monotonic() - startedMono).rounded(.down))
        o["bus.bridge"] = bridge?.metricsJSON ?? ["backend": "memory"]
        return .object(o)
    }

    /// Redis went down (`down` says why) or came back: one `alert.redis` each, in the log too.
    func redisStateChanged(_ down: String?) {
        guard let bridge else { return }
        if let down {
            logger.warning("alert.redis", ["state": "down", "error": .string(down)])
            bus.publish(
                topic: "alert.redis",
                ["state": "down", "error": .string(down), "url": .string(bridge.url.description), "role": "bus"])
        } else {
            logger.info("alert.redis", ["state": "up"])
            bus.publish(
                topic: "alert.redis",
                [
                    "state": "up", "url": .string(bridge.url.description), "role": "bus",
                    "dropped": JSON(bridge.counters.dropped),
                ])
        }
    }

    func resourcesJSON() -> JSON {
        var perModule: [String: JSON] = [:]
        for runner in modules.values where runner.pid != nil {
            let r = runner.liveResources()
            perModule[runner.name] = [
                "pid": JSON(runner.pid!), "cpu_percent": JSON((r.cpuPercent * 10).rounded() / 10),
                "rss_bytes": JSON(r.rssBytes),
                "cpu_seconds": JSON((r.cpuSeconds * 100).rounded() / 100),
                "threads": JSON(r.threads), "open_files": JSON(r.openFiles), "children": JSON(r.children),
                "process_state": JSON(r.processState),
            ]
        }
        return ["daemon": daemonResources(), "modules": .object(perModule)]
    }
}
