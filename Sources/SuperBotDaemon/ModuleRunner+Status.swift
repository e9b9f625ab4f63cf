import Glibc
import JSON
import SuperBotConfig
import Supervision
import SystemKit

/// What `status` and `module.status` show of a module.
extension ModuleRunner {
    func statusJSON(detailed: Bool) -> JSON {
        let res = liveResources(openFiles: detailed)
        var o: [String: JSON] = [
            "name": .string(name), "state": .string(state.rawValue), "enabled": .bool(spec.enabled),
            "pid": pid.map { JSON($0) } ?? .null,
            "uptime_seconds": startedWall.map { JSON((Clock.wall() - $0).rounded(.down)) } ?? .null,
            "since": .string(Clock.iso8601(Clock.wall() - (Clock.monotonic() - lifecycle.since))),
            "restarts": JSON(lifecycle.totalRestarts), "recent_restarts": JSON(lifecycle.recentRestarts.count),
            "reason": JSON(lifecycle.reason),
            "cpu_percent": pid == nil ? .null : JSON((res.cpuPercent * 10).rounded() / 10),
            "rss_bytes": pid == nil ? .null : JSON(res.rssBytes),
            "health": pid == nil ? .null : JSON(lastHealth),
        ]
        if detailed {
            o["threads"] = JSON(res.threads)
            o["open_files"] = JSON(res.openFiles)
            o["children"] = JSON(res.children)
            o["process_state"] = JSON(res.processState)
            o["command"] = .string(spec.command)
            o["args"] = .array(spec.args.map { .string($0) })
            o["log_file"] = .string(logPath)
            o["depends_on"] = .array(spec.dependsOn.map { .string($0) })
            o["last_exit"] = JSON(lifecycle.lastExit?.description)
            o["health_check"] =
                spec.httpCheck.map { .string("http://\($0.host):\($0.port)\($0.path)") }
                ?? spec.heartbeatTimeout.map { .string("heartbeat on module.\(name).heartbeat every \($0) s") } ?? .null
            o["operator_stopped"] = .bool(context.isOperatorStopped(name))
        }
        return .object(o)
    }
}
