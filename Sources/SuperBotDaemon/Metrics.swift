import JSON

/// Counters exposed by `monitoring.metrics`.
struct Metrics {
    var rpcRequests = 0
    var rpcErrors = 0
    var connectionsAccepted = 0
    var connectionsRejected = 0
    var oversizedMessages = 0
    var spawns = 0
    var spawnFailures = 0
    var restarts = 0
    var crashes = 0
    var failed = 0
    var healthCheckFailures = 0
    var watchdogChecks = 0
    var adopted = 0
    var busDropped = 0
    var routedRequests = 0
    var routedTimeouts = 0

    var json: JSON {
        [
            "rpc.requests": JSON(rpcRequests), "rpc.errors": JSON(rpcErrors),
            "rpc.connections_accepted": JSON(connectionsAccepted), "rpc.connections_rejected": JSON(connectionsRejected),
            "rpc.oversized_messages": JSON(oversizedMessages),
            "modules.spawns": JSON(spawns), "modules.spawn_failures": JSON(spawnFailures), "modules.restarts": JSON(restarts),
            "modules.crashes": JSON(crashes), "modules.failed": JSON(failed), "modules.adopted": JSON(adopted),
            "watchdog.checks": JSON(watchdogChecks), "watchdog.health_check_failures": JSON(healthCheckFailures),
            "bus.dropped": JSON(busDropped), "rpc.routed_requests": JSON(routedRequests), "rpc.routed_timeouts": JSON(routedTimeouts),
        ]
    }
}
