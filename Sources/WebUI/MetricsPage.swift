import JSON

/// `/metrics` from a snapshot: the daemon's counters, each module's state and /proc figures,
/// each engine's books and cycle latency, the exchange connector's counters.
public enum MetricsPage {
    static let moduleStates = ["stopped", "starting", "running", "stopping", "backoff", "crashed", "fatal"]
    static let engineStatuses = ["stopped", "starting", "running", "paused", "crashed", "stopping"]

    public static func render(_ s: WebSnapshot, now: Double) -> String {
        var p = PrometheusText()
        p.single("superbot_up", .gauge, "Whether the web UI reaches the daemon (1) or not (0).", s.daemonUp ? 1 : 0)
        p.single(
            "superbot_webui_snapshot_age_seconds", .gauge, "Age of the figures below: time since the last refresh.",
            s.updated > 0 ? max(0, now - s.updated) : -1)
        daemon(&p, s)
        modules(&p, s)
        engines(&p, s)
        connector(&p, s)
        return p.text
    }

    private static func daemon(_ p: inout PrometheusText, _ s: WebSnapshot) {
        let m = s.metrics
        func counter(_ name: String, _ key: String, _ help: String) {
            guard let value = m?[key]?.doubleValue else { return }
            p.single(name, .counter, help, value)
        }
        if let uptime = m?["daemon.uptime_seconds"]?.doubleValue {
            p.single("superbot_daemon_uptime_seconds", .gauge, "Seconds since the daemon started.", uptime)
        }
        counter("superbot_rpc_requests_total", "rpc.requests", "JSON-RPC requests the daemon answered.")
        counter("superbot_rpc_errors_total", "rpc.errors", "JSON-RPC requests answered with an error.")
        counter(
            "superbot_rpc_connections_accepted_total", "rpc.connections_accepted",
            "Control-socket connections accepted.")
        counter(
            "superbot_rpc_connections_rejected_total", "rpc.connections_rejected", "Control-socket connections refused."
        )
        counter("superbot_module_spawns_total", "modules.spawns", "Module processes spawned.")
        counter("superbot_module_restarts_total", "modules.restarts", "Module restarts by the restart policy.")
        counter("superbot_module_crashes_total", "modules.crashes", "Module processes that exited unexpectedly.")
        counter("superbot_module_adopted_total", "modules.adopted", "Module processes adopted after a daemon restart.")
        counter("superbot_bus_published_total", "bus.published", "Messages published on the bus.")
        counter("superbot_bus_delivered_total", "bus.delivered", "Bus deliveries to subscribers.")
        counter("superbot_bus_dropped_total", "bus.dropped", "Bus messages dropped for slow subscribers.")
        if let n = m?["rpc.connections"]?.doubleValue {
            p.single("superbot_rpc_connections", .gauge, "Open control-socket connections.", n)
        }
    }

    private static func modules(_ p: inout PrometheusText, _ s: WebSnapshot) {
        let list = s.modules ?? []
        guard !list.isEmpty else { return }
        let resources = s.resources?["modules"]
        p.family("superbot_module_state", .gauge, "1 for the module's current state, 0 for the others.")
        for m in list {
            let name = m["name"]?.stringValue ?? "?"
            let state = m["state"]?.stringValue ?? "unknown"
            for candidate in moduleStates {
                p.sample("superbot_module_state", ["module": name, "state": candidate], candidate == state ? 1 : 0)
            }
        }
        func perModule(
            _ metric: String, _ kind: PrometheusText.Kind, _ help: String, _ value: (JSON, String) -> Double?
        ) {
            let rows = list.compactMap { m -> (String, Double)? in
                guard let name = m["name"]?.stringValue, let v = value(m, name) else { return nil }
                return (name, v)
            }
            guard !rows.isEmpty else { return }
            p.family(metric, kind, help)
            for (name, v) in rows { p.sample(metric, ["module": name], v) }
        }
        perModule("superbot_module_restarts", .gauge, "Restarts of the module since the daemon started.") { m, _ in
            m["restarts"]?.doubleValue
        }
        perModule("superbot_module_cpu_seconds_total", .counter, "CPU time of the module's main process.") { _, n in
            resources?[n]?["cpu_seconds"]?.doubleValue
        }
        perModule("superbot_module_resident_memory_bytes", .gauge, "Resident memory of the module's processes.") {
            m, _ in m["rss_bytes"]?.doubleValue
        }
        perModule("superbot_module_threads", .gauge, "Threads of the module's processes.") { _, n in
            resources?[n]?["threads"]?.doubleValue
        }
        perModule("superbot_module_open_fds", .gauge, "Open file descriptors of the module's main process.") { _, n in
            resources?[n]?["open_files"]?.doubleValue
        }
    }

    private static func engines(_ p: inout PrometheusText, _ s: WebSnapshot) {
        guard let list = s.engines, !list.isEmpty else { return }
        p.family("superbot_engine_status", .gauge, "1 for the engine's current status, 0 for the others.")
        for e in list {
            let symbol = e["symbol"]?.stringValue ?? "?"
            let status = e["status"]?.stringValue ?? "unknown"
            for candidate in engineStatuses {
                p.sample(
                    "superbot_engine_status", ["symbol": symbol, "status": candidate], candidate == status ? 1 : 0)
            }
        }
        let fields: [(String, String, PrometheusText.Kind, String)] = [
            ("superbot_engine_equity", "equity", .gauge, "Cash plus position at the last price (quote asset)."),
            ("superbot_engine_position", "position", .gauge, "Base asset held."),
            ("superbot_engine_last_price", "last_price", .gauge, "Last price the engine saw."),
            ("superbot_engine_realized_pnl", "realized_pnl", .gauge, "Realized profit and loss (quote asset)."),
            ("superbot_engine_unrealized_pnl", "unrealized_pnl", .gauge, "Unrealized profit and loss (quote asset)."),
            ("superbot_engine_trades_total", "trade_count", .counter, "Fills booked by the engine."),
            ("superbot_engine_errors_total", "error_count", .counter, "Errors in the engine's cycles."),
            ("superbot_engine_restarts_total", "restart_count", .counter, "Restarts of the engine."),
            (
                "superbot_engine_heartbeat_age_seconds", "heartbeat_age", .gauge,
                "Seconds since the engine's last cycle."
            ),
        ]
        for (metric, key, kind, help) in fields {
            p.family(metric, kind, help)
            for e in list {
                guard let v = e[key]?.doubleValue else { continue }
                p.sample(metric, ["symbol": e["symbol"]?.stringValue ?? "?"], v)
            }
        }
        p.family("superbot_engine_cycle_seconds", .summary, "Duration of the engine's cycles (recent quantiles).")
        for e in list {
            let symbol = e["symbol"]?.stringValue ?? "?"
            for (q, key) in [("0.5", "cycle_ms_p50"), ("0.99", "cycle_ms_p99")] {
                if let ms = e[key]?.doubleValue {
                    p.sample("superbot_engine_cycle_seconds", ["symbol": symbol, "quantile": q], ms / 1000)
                }
            }
            p.sample(
                "superbot_engine_cycle_seconds_sum", ["symbol": symbol], e["cycle_seconds_total"]?.doubleValue ?? 0)
            p.sample("superbot_engine_cycle_seconds_count", ["symbol": symbol], e["cycles"]?.doubleValue ?? 0)
        }
    }

    private static func connector(_ p: inout PrometheusText, _ s: WebSnapshot) {
        guard let c = s.balance?["connector"] else { return }
        if let v = c["requests"]?.doubleValue {
            p.single("superbot_connector_requests_total", .counter, "Requests the exchange connector sent.", v)
        }
        if let v = c["retries"]?.doubleValue {
            p.single("superbot_connector_retries_total", .counter, "Requests the connector retried.", v)
        }
        if let v = c["connections_open"]?.doubleValue {
            p.single("superbot_connector_pool_connections", .gauge, "Open connections in the connector's pool.", v)
        }
        for (metric, key, help) in [
            ("superbot_connector_cache_hits_total", "cache_hits", "Connector cache hits by kind."),
            ("superbot_connector_cache_misses_total", "cache_misses", "Connector cache misses by kind."),
        ] {
            guard let byKind = c[key]?.objectValue, !byKind.isEmpty else { continue }
            p.family(metric, .counter, help)
            for kind in byKind.keys.sorted() { p.sample(metric, ["kind": kind], byKind[kind]?.doubleValue ?? 0) }
        }
    }
}
