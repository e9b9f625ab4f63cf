import HTTP
import JSON
import SuperBotTesting
import SystemKit
import Testing

@testable import WebUI

struct PrometheusTextTests {
    @Test func familiesLabelsAndEscaping() {
        var p = PrometheusText()
        p.family("superbot_module_state", .gauge, "State.\nSecond line with \\ backslash.")
        p.sample("superbot_module_state", ["module": "we\"b\\ui\n", "state": "running"], 1)
        p.single("superbot_rpc_requests_total", .counter, "Requests.", 12)
        p.family("x", .gauge, "Edge values.")
        p.sample("x", ["k": "a"], .infinity)
        p.sample("x", ["k": "b"], -.infinity)
        p.sample("x", ["k": "c"], .nan)
        p.sample("x", ["k": "d"], 0.25)
        #expect(
            p.text == """
                # HELP superbot_module_state State.\\nSecond line with \\\\ backslash.
                # TYPE superbot_module_state gauge
                superbot_module_state{module="we\\"b\\\\ui\\n",state="running"} 1
                # HELP superbot_rpc_requests_total Requests.
                # TYPE superbot_rpc_requests_total counter
                superbot_rpc_requests_total 12
                # HELP x Edge values.
                # TYPE x gauge
                x{k="a"} +Inf
                x{k="b"} -Inf
                x{k="c"} NaN
                x{k="d"} 0.25

                """)
    }

    @Test func metricsPageFromASnapshot() {
        var s = WebSnapshot()
        s.updated = 100
        s.modules = [["name": "trading", "state": "running", "restarts": 2, "rss_bytes": 1000]]
        s.resources = ["modules": ["trading": ["cpu_seconds": 1.5, "threads": 4, "open_files": 9]]]
        s.engines = [
            [
                "symbol": "BTCUSDT", "status": "crashed", "equity": 10_000, "position": 0.1, "cycle_ms_p50": 2,
                "cycle_ms_p99": 10, "cycles": 5, "cycle_seconds_total": 0.02,
            ]
        ]
        let text = MetricsPage.render(s, now: 101)
        #expect(text.contains("superbot_up 1\n"))
        #expect(text.contains("superbot_module_state{module=\"trading\",state=\"running\"} 1\n"))
        #expect(text.contains("superbot_module_state{module=\"trading\",state=\"crashed\"} 0\n"))
        #expect(text.contains("superbot_module_cpu_seconds_total{module=\"trading\"} 1.5\n"))
        #expect(text.contains("superbot_engine_status{symbol=\"BTCUSDT\",status=\"crashed\"} 1\n"))
        #expect(text.contains("superbot_engine_cycle_seconds{symbol=\"BTCUSDT\",quantile=\"0.99\"} 0.01\n"))
        #expect(text.contains("superbot_engine_cycle_seconds_count{symbol=\"BTCUSDT\"} 5\n"))
        #expect(text.contains("superbot_webui_snapshot_age_seconds 1\n"))
        s.daemonError = "not connected"
        #expect(MetricsPage.render(s, now: 101).contains("superbot_up 0\n"))
    }
}

struct EventRingTests {
    @Test func resumesAfterAnIdOrSaysItCannot() {
        var ring = EventRing(capacity: 3)
        for n in 1...5 { ring.append { id in Array("\(id):\(n)".utf8) } }
        #expect(ring.all.map(\.id) == [3, 4, 5])
        #expect(ring.after(5) == [])
        #expect(ring.after(3)?.map(\.id) == [4, 5])
        #expect(ring.after(2)?.map(\.id) == [3, 4, 5], "id 3 is the next one after 2: nothing was missed")
        #expect(ring.after(1) == nil, "event 2 left the ring")
        #expect(ring.after(9) == [], "an id from the future replays nothing")
    }
}

struct AccessPolicyTests {
    func request(_ method: String, _ path: String, _ headers: [(String, String)]) -> HTTPRequest {
        HTTPRequest(method: method, target: path, headers: HTTPHeaders(headers))
    }

    @Test func bearerTokenOnEverythingButThePublicPages() {
        let open = AccessPolicy(token: nil)
        #expect(open.authorized(request("GET", "/engines/status", [])))
        #expect(AccessPolicy(token: "").requiresToken == false)
        let closed = AccessPolicy(token: "t0k")
        #expect(closed.authorized(request("GET", "/", [])))
        #expect(closed.authorized(request("GET", "/health", [])))
        #expect(!closed.authorized(request("POST", "/health", [])))
        #expect(!closed.authorized(request("GET", "/engines/status", [])))
        #expect(!closed.authorized(request("GET", "/engines/status", [("Authorization", "Bearer t0")])))
        #expect(!closed.authorized(request("GET", "/engines/status", [("Authorization", "Bearer t0kk")])))
        #expect(!closed.authorized(request("GET", "/engines/status", [("Authorization", "Basic t0k")])))
        #expect(closed.authorized(request("GET", "/engines/status", [("Authorization", "Bearer t0k")])))
        #expect(closed.authorized(request("GET", "/metrics", [("authorization", "bearer t0k")])))
    }

    @Test func crossOriginStateChangesAreRefused() {
        func refusal(_ headers: [(String, String)]) -> String? {
            AccessPolicy.crossOriginRefusal(
                request("POST", "/engines/stop/BTCUSDT", [("Host", "127.0.0.1:8080")] + headers))
        }
        #expect(refusal([]) == nil, "curl and the CLI send neither header")
        #expect(refusal([("Origin", "http://127.0.0.1:8080")]) == nil)
        #expect(refusal([("Sec-Fetch-Site", "same-origin")]) == nil)
        #expect(refusal([("Origin", "http://evil.example")]) != nil)
        #expect(refusal([("Origin", "null")]) != nil)
        #expect(refusal([("Origin", "http://127.0.0.1:8080.evil")]) != nil)
        #expect(refusal([("Sec-Fetch-Site", "cross-site")]) != nil)
        #expect(refusal([("Sec-Fetch-Site", "same-site"), ("Origin", "http://127.0.0.1:8080")]) != nil)
    }
}

struct WebSnapshotTests {
    func snapshot() -> WebSnapshot {
        var s = WebSnapshot()
        s.updated = 1
        s.modules = [["name": "trading", "state": "running"]]
        s.engines = [
            ["symbol": "BTCUSDT", "status": "running", "healthy": true],
            ["symbol": "ETHUSDT", "status": "crashed", "healthy": false],
            ["symbol": "SOLUSDT", "status": "stopped", "healthy": false],
        ]
        s.trades = [
            [
                "symbol": "BTCUSDT", "profit_abs": 5, "close_date": "2026-12-02T01:00:00Z",
                "open_date": "2026-12-02T00:00:00Z",
            ],
            [
                "symbol": "ETHUSDT", "profit_abs": -2, "close_date": "2026-12-01T10:00:00Z",
                "open_date": "2026-12-01T09:00:00Z",
            ],
            [
                "symbol": "BTCUSDT", "profit_abs": 1, "close_date": "2026-12-01T08:00:00Z",
                "open_date": "2026-12-01T07:00:00Z",
            ],
        ]
        return s
    }

    @Test func engineStatusShapeAndCounts() {
        let (status, body) = snapshot().enginesStatus()
        #expect(status == 200)
        #expect(body["total"] == 3 && body["running"] == 1 && body["crashed"] == 1 && body["stopped"] == 1)
        #expect(snapshot().engine("XRPUSDT") == (404, ["detail": "Engine XRPUSDT not found"]))
        var down = snapshot()
        down.engines = nil
        down.tradingError = "no module serves it"
        #expect(down.enginesStatus().status == 503)
        var gone = snapshot()
        gone.daemonError = "not connected"
        #expect(gone.enginesStatus().status == 503 && gone.healthAnswer().body["status"] == "down")
    }

    @Test func eventsApplyBeforeTheNextRefresh() {
        var s = snapshot()
        s.applyEngineStatus(symbol: "ETHUSDT", status: "running", reason: nil)
        #expect(s.enginesStatus().body["running"] == 2)
        s.applyModuleEvent("module.crashed", data: ["module": "trading", "reason": "exit 1"])
        #expect(s.module("trading").body["state"] == "crashed")
    }

    @Test func tradesPageAndProfit() {
        let s = snapshot()
        let page = s.tradePage(symbol: nil, limit: 2, offset: 1).body
        #expect(
            page["trades_count"] == 2 && page["total_trades"] == 3 && page["trades"]?.arrayValue?[0]["profit_abs"] == -2
        )
        #expect(s.tradePage(symbol: "BTCUSDT", limit: 100, offset: 0).body["total_trades"] == 2)
        let profit = s.profit().body
        #expect(profit["profit_closed_coin"] == 4 && profit["winning_trades"] == 2 && profit["losing_trades"] == 1)
        #expect(profit["profit_factor"] == 3 && profit["best_pair"] == "BTCUSDT")
        #expect(
            profit["per_day"]?.arrayValue?[0]["date"] == "2026-12-02"
                && profit["per_day"]?.arrayValue?[1]["trade_count"] == 2)
        #expect(profit["per_symbol"]?["BTCUSDT"]?["profit_abs"] == 6)
    }

    @Test func renderedOncePerVersion() {
        let state = WebState()
        var renders = 0
        _ = state.answer("/x") { _ in
            renders += 1
            return (200, [1])
        }
        _ = state.answer("/x") { _ in
            renders += 1
            return (200, [1])
        }
        #expect(renders == 1)
        state.update { $0.updated = 5 }
        _ = state.answer("/x") { _ in
            renders += 1
            return (200, [2])
        }
        #expect(renders == 2)
    }
}

struct WebUIOptionsTests {
    @Test func flagsAndTokenFromTheEnvironment() throws {
        let o = try #require(
            try WebUIOptions.parse(["--port", "9090", "--refresh", "0.5"]) { $0 == "SUPERBOT_TOKEN" ? "abc" : nil })
        #expect(o.port == 9090 && o.refresh == 0.5 && o.token == "abc" && o.host == "127.0.0.1")
        let own = try WebUIOptions.parse([]) { ["SUPERBOT_TOKEN": "abc", "SUPERBOT_WEBUI_TOKEN": "web"][$0] }
        #expect(own?.token == "web")
        #expect(try WebUIOptions.parse(["--help"]) { _ in nil } == nil)
        for bad in [["--port"], ["--port", "70000"], ["--refresh", "0"], ["--bogus", "1"]] {
            #expect(throws: WebUIOptions.Invalid.self, "\(bad)") { _ = try WebUIOptions.parse(bad) { _ in nil } }
        }
    }
}

/// The hub on a real server: a reader that stops reading is dropped past the output bound, and
/// the others go on receiving.
struct EventHubTests {
    final class Fixture {
        let server: HTTPServer
        let hub: EventHub
        init(_ loop: EventLoop) throws {
            var limits = HTTPServer.Limits()
            limits.maxOutputBytes = 64 << 10
            let hub = EventHub(loop: loop, capacity: 100, heartbeat: 60)
            self.hub = hub
            server = try HTTPServer(loop: loop, host: "127.0.0.1", port: 0, limits: limits) { request, writer in
                hub.attach(writer, lastEventID: request.headers["last-event-id"])
            }
        }
    }

    @Test func aReaderThatStopsIsDroppedOthersGoOn() throws {
        let thread = try LoopThread { try Fixture($0) }
        defer { thread.stop { $0.server.close() } }
        let port = thread.value.server.port
        let stuck = try HTTPTestClient(port: port, bufferBytes: 4096)
        try stuck.send("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        let reader = try HTTPTestClient(port: port, timeout: 2)
        try reader.send("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(waitUntil(5) { thread.sync { $0.hub.streamCount } == 2 })
        let big = JSON.string(String(repeating: "x", count: 8000))
        var received = 0
        for round in 0..<1500 {
            thread.sync { $0.hub.publish(topic: "trade.executed", source: "test", ts: Double(round), data: big) }
            received += reader.readSome().count
        }
        #expect(waitUntil(5) { thread.sync { $0.hub.streamCount } == 1 }, "the stuck reader is gone")
        while case let bytes = reader.readSome(), !bytes.isEmpty { received += bytes.count }
        #expect(received > 1500 * 8000, "the reading client got every event")
    }
}
