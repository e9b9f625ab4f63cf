import JSON

/// The daemon's counters for `monitoring.metrics` (the control socket keeps its own: `ControlServer.Counters`).
struct Metrics {
    var spawns = 0
    var spawnFailures = 0
    var restarts = 0
    var crashes = 0
    var failed = 0
    var healthCheckFailures = 0
    var watchdogChecks = 0
    var adopted = 0
    var routedRequests = 0
    var routedTimeouts = 0
    /// The last watchdog passes' durations (one `/proc` scan plus every module's sample).
    private(set) var watchdogPasses: [Double] = []

    mutating func recordWatchdogPass(ms: Double) {
        watchdogPasses.append(ms)
        if watchdogPasses.count > 16 { watchdogPasses.removeFirst() }
    }

    var json: JSON {
        [
            "modules.spawns": JSON(spawns), "modules.spawn_failures": JSON(spawnFailures),
            "modules.restarts": JSON(restarts),
            "modules.crashes": JSON(crashes), "modules.failed": JSON(failed), "modules.adopted": JSON(adopted),
            "watchdog.checks": JSON(watchdogChecks), "watchdog.health_check_failures": JSON(healthCheckFailures),
            "rpc.routed_requests": JSON(routedRequests), "rpc.routed_timeouts": JSON(routedTimeouts),
            "watchdog.last_pass_ms": watchdogPasses.last.map { JSON(($0 * 1000).rounded() / 1000) } ?? .null,
            "watchdog.pass_ms_median": watchdogPasses.isEmpty
                ? .null : JSON((watchdogPasses.sorted()[watchdogPasses.count / 2] * 1000).rounded() / 1000),
        ]
    }
}
