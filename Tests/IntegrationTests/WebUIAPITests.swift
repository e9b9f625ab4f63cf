import Glibc
import HTTP
import JSON
import SuperBotTesting
import SystemKit
import Testing

/// The web UI's HTTP API against real processes: superbot + exchange-sim + trading-engine + webui.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct WebUIAPITests {
    static let root = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    static let python = root + "/.build/test-venv/bin/python"

    struct System {
        let h: Harness
        let port: UInt16
    }

    func start(token: String? = nil) throws -> System {
        let sim = Harness.freePort()
        let web = Harness.freePort()
        let auth = token.map { "\n  ipc: {auth_token: \"\($0)\"}" } ?? ""
        let h = try Harness(
            """
            daemon:
              modules:
                exchange-sim: {command: exchange-sim, port: \(sim), healthcheck_endpoint: /health, start_seconds: 0}
                trading: {command: trading-engine, depends_on: [exchange-sim], start_seconds: 0}
                webui:
                  command: webui
                  args: ["--port", "\(web)", "--refresh", "0.3", "--heartbeat", "1"]
                  port: \(web)
                  healthcheck_endpoint: /health
                  start_seconds: 0
                sleeper: {command: "exec sleep 100000", shell: true, start_seconds: 0}
              autostart: [exchange-sim, trading, webui, sleeper]\(auth)
            """)
        h.token = token
        try writeFastTradingConfig(h, symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], port: sim)
        try h.startDaemon()
        return System(h: h, port: web)
    }

    /// One request on a connection of its own.
    func request(
        _ s: System, _ method: String, _ path: String, _ headers: [(String, String)] = [], token: String? = nil
    ) throws -> HTTPResponse {
        let client = try HTTPTestClient(port: s.port, timeout: 10)
        var all = headers + [("Connection", "close")]
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        try client.send(HTTPRequest(method: method, target: path, headers: HTTPHeaders(all)).serialized(host: host(s)))
        guard let response = try client.next() else { throw HarnessError("no answer to \(method) \(path)") }
        return response
    }

    func host(_ s: System) -> String { "127.0.0.1:\(s.port)" }

    /// A GET whose answer is read as it streams.
    func stream(_ s: System, _ path: String, lastEventID: String? = nil) throws -> HTTPTestClient {
        let client = try HTTPTestClient(port: s.port, timeout: 10)
        let resume = lastEventID.map { "Last-Event-ID: \($0)\r\n" } ?? ""
        try client.send("GET \(path) HTTP/1.1\r\nHost: \(host(s))\r\n\(resume)\r\n")
        return client
    }

    /// Reads until `done` holds for all that arrived, or the deadline.
    func read(_ client: HTTPTestClient, _ timeout: Double, until done: (String) -> Bool) -> (done: Bool, text: String) {
        var text = ""
        let ok = waitUntil(timeout) {
            text += String(decoding: client.readSome(), as: UTF8.self)
            return done(text)
        }
        return (ok, text)
    }

    func json(_ s: System, _ method: String, _ path: String, token: String? = nil) throws -> (Int, JSON) {
        let r = try request(s, method, path, token: token)
        return (r.status, (try? JSON.parse(r.body)) ?? .null)
    }

    func get(_ s: System, _ path: String, token: String? = nil) -> JSON? {
        guard let (status, body) = try? json(s, "GET", path, token: token), status == 200 else { return nil }
        return body
    }

    func waitForEngines(_ s: System, token: String? = nil) -> Bool {
        waitUntil(60) { get(s, "/engines/status", token: token)?["running"]?.intValue == 3 }
    }

    @Test func engineAPIAsTheDesignSpecifies() throws {
        let s = try start()
        defer { s.h.cleanup() }
        #expect(waitForEngines(s), "\(String(describing: try? json(s, "GET", "/engines/status")))")
        let status = try #require(get(s, "/engines/status"))
        #expect(Set(status.objectValue!.keys) == ["total", "running", "crashed", "stopped", "engines"])
        #expect(status["total"] == 3 && status["crashed"] == 0 && status["stopped"] == 0)
        let fields = [
            "symbol", "status", "reason", "healthy", "last_heartbeat", "heartbeat_age", "uptime", "error_count",
            "last_error", "restart_count", "position", "equity", "realized_pnl", "unrealized_pnl", "trade_count",
        ]
        for engine in status["engines"]?.arrayValue ?? [] {
            #expect(fields.allSatisfy { engine[$0] != nil }, "\(engine.serialized())")
        }
        #expect(get(s, "/engines/status/BTCUSDT")?["symbol"] == "BTCUSDT")
        let missing = try json(s, "GET", "/engines/status/DOGEUSDT")
        #expect(missing.0 == 404 && missing.1 == ["detail": "Engine DOGEUSDT not found"])

        let stopped = try json(s, "POST", "/engines/stop/ETHUSDT")
        #expect(stopped.0 == 200, "\(stopped)")
        #expect(stopped.1["ok"] == true && stopped.1["symbol"] == "ETHUSDT" && stopped.1["status"] == "stopped")
        #expect(try json(s, "POST", "/engines/stop/ETHUSDT").0 == 409, "already stopped")
        #expect(
            waitUntil(10) {
                get(s, "/engines/status")?["stopped"] == 1
                    && get(s, "/engines/status/ETHUSDT")?["status"] == "stopped"
            })
        let cli = s.h.cli(["--json", "engines"])
        #expect(cli.output.contains("\"stopped\""), "\(cli.output)")
        let started = try json(s, "POST", "/engines/start/ETHUSDT")
        #expect(started.0 == 200 && started.1["status"] == "started", "\(started)")
        #expect(waitUntil(10) { get(s, "/engines/status/ETHUSDT")?["status"] == "running" })
        #expect(try json(s, "POST", "/engines/start/ETHUSDT").0 == 409, "already running")
        #expect(try json(s, "POST", "/engines/restart/ETHUSDT").1["status"] == "restarted")
        #expect(try json(s, "POST", "/engines/stop/NOPEUSDT").0 == 404)
        let wrongMethod = try request(s, "GET", "/engines/stop/ETHUSDT")
        #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"] == "POST")

        // The trading module down: 503 with the reason, not a stale table.
        _ = try s.h.call("module.stop", ["name": "trading", "wait": true])
        #expect(waitUntil(10) { (try? json(s, "GET", "/engines/status"))?.0 == 503 })
        #expect(try json(s, "POST", "/engines/stop/BTCUSDT").0 == 503)
    }

    @Test func restOfTheAPIEventsAndMetrics() throws {
        let s = try start()
        defer { s.h.cleanup() }
        #expect(waitForEngines(s))
        #expect(get(s, "/api/v1/ping") == ["status": "pong"])
        #expect(get(s, "/api/v1/version")?["api_version"] == 1)
        #expect(
            waitUntil(10) {
                let health = get(s, "/api/v1/health")
                return health?["status"] == "ok" && health?["modules"]?["webui"] == "running"
                    && health?["engines"]?["running"] == 3
            }, "\(String(describing: get(s, "/api/v1/health")))")
        let modules = get(s, "/api/v1/modules")?["modules"]?.arrayValue ?? []
        #expect(Set(modules.compactMap { $0["name"]?.stringValue }) == ["exchange-sim", "trading", "webui", "sleeper"])
        let trading = try #require(get(s, "/api/v1/modules/trading"))
        #expect(trading["state"] == "running" && trading["pid"]?.intValue != nil && trading["threads"] != nil)
        #expect(try json(s, "GET", "/api/v1/modules/nope").0 == 404)
        #expect(try json(s, "POST", "/api/v1/modules/sleeper/stop").1["status"] == "stopped")
        #expect(try json(s, "POST", "/api/v1/modules/sleeper/stop").0 == 409)
        #expect(try json(s, "POST", "/api/v1/modules/sleeper/start").1["state"] == "running")
        #expect(try json(s, "POST", "/api/v1/modules/nope/restart").0 == 404)

        #expect(get(s, "/api/v1/positions")?["positions"]?.arrayValue?.count == 3)
        #expect(get(s, "/api/v1/orders")?["recent"] != nil)
        #expect(get(s, "/api/v1/balance")?["equity"]?.doubleValue != nil)
        #expect(
            waitUntil(60) { (get(s, "/api/v1/trades")?["total_trades"]?.intValue ?? 0) >= 1 },
            "no closed trade: \(String(describing: get(s, "/api/v1/trades")))")
        let trades = try #require(get(s, "/api/v1/trades?limit=1"))
        #expect(trades["trades_count"] == 1 && trades["offset"] == 0)
        let trade = try #require(trades["trades"]?.arrayValue?.first)
        for key in ["trade_id", "pair", "open_date", "close_date", "amount", "open_rate", "close_rate", "profit_abs"] {
            #expect(trade[key] != nil, "\(key) in \(trade.serialized())")
        }
        let symbol = trade["symbol"]!.stringValue!
        let filtered = get(s, "/api/v1/trades?symbol=\(symbol)")?["trades"]?.arrayValue ?? []
        #expect(!filtered.isEmpty && filtered.allSatisfy { $0["symbol"]?.stringValue == symbol })
        #expect(try json(s, "GET", "/api/v1/trades?limit=abc").0 == 400)
        let profit = try #require(get(s, "/api/v1/profit"))
        #expect((profit["closed_trade_count"]?.intValue ?? 0) >= 1 && profit["per_day"]?.arrayValue?.isEmpty == false)
        #expect(profit["per_symbol"]?[symbol] != nil)
        #expect(get(s, "/api/v1/logs/daemon?lines=3")?["lines"]?.arrayValue?.count == 3)
        #expect(try json(s, "GET", "/api/v1/logs/nope").0 == 404)
        #expect(try json(s, "GET", "/api/v1/logs/daemon?lines=-1").0 == 400)
        #expect(get(s, "/api/v1/charts/BTCUSDT")?["prices"]?.arrayValue?.isEmpty == false)

        // Backtest reports, as the backtest module writes them into reports/.
        let out = s.h.dir + "/backtest.out"
        #expect(
            Harness.run(
                Harness.binary("backtest"), ["--synthetic", "BTCUSDT", "--bars", "300"], cwd: s.h.dir, output: out)
                == 0, "\((try? FileSystem.readString(out)) ?? "")")
        let listed = get(s, "/api/v1/backtests")?["reports"]?.arrayValue ?? []
        let id = try #require(listed.first?["id"]?.stringValue)
        #expect(listed.first?["statistics"]?["# Trades"] != nil && listed.first?["bars"] == 300)
        #expect(get(s, "/api/v1/backtests/\(id)")?["statistics"]?["Sharpe Ratio"] != nil)
        let page = try request(s, "GET", "/api/v1/backtests/\(id)/report.html")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(try json(s, "GET", "/api/v1/backtests/nope").0 == 404)
        #expect(try request(s, "GET", "/api/v1/backtests/\(id)/report.json").status == 404, "pages only")
        #expect(try request(s, "GET", "/api/v1/backtests/..%2F..%2Fconfig/daemon.yaml").status == 404)

        // Errors are JSON with a fitting status.
        #expect(try json(s, "GET", "/nowhere") == (404, ["detail": "Not Found: /nowhere"]))
        let raw = try HTTPTestClient(port: s.port)
        try raw.send("GARBAGE\r\n\r\n")
        #expect(try raw.next()?.status == 400)
        let huge = try HTTPTestClient(port: s.port)
        try huge.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n")
        #expect(try huge.next()?.status == 431)

        // Server-Sent Events: a bus event arrives with an id; a reconnect with Last-Event-ID replays after it.
        let events = try stream(s, "/api/v1/events")
        _ = try json(s, "POST", "/engines/stop/SOLUSDT")
        let seen = read(events, 10) { $0.contains("engine.SOLUSDT.status") }
        #expect(seen.done, "\(seen.text.suffix(500))")
        #expect(seen.text.contains("text/event-stream") && seen.text.contains("retry: 2000"))
        let ids = seen.text.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("id: ") }.map {
            String($0.dropFirst(4))
        }
        try #require(ids.count >= 2, "the stop publishes stopping and stopped: \(seen.text.suffix(500))")
        let resumed = try stream(s, "/api/v1/events", lastEventID: ids[0])
        let replay = read(resumed, 10) { $0.contains("id: \(ids[1])\n") }
        #expect(replay.done)
        #expect(!replay.text.contains("id: \(ids[0])\n"), "the event the client had is not sent again")
        #expect(read(events, 5) { $0.contains(": heartbeat") }.done)

        // A module's log as SSE.
        let tail = try stream(s, "/api/v1/logs/daemon/stream?lines=2")
        #expect(
            read(tail, 10) { $0.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("data: ") }.count >= 2 }.done)

        try checkMetrics(s)
    }

    /// `/metrics` through prometheus_client's parser.
    func checkMetrics(_ s: System) throws {
        #expect(FileSystem.exists(Self.python), "run `make test-deps` (prometheus-client in .build/test-venv)")
        guard FileSystem.exists(Self.python) else { return }
        let response = try request(s, "GET", "/metrics")
        #expect(response.status == 200 && response.headers["content-type"]?.contains("version=0.0.4") == true)
        let file = s.h.dir + "/metrics.txt"
        try FileSystem.writeAtomically(file, response.body)
        let parsed = try JSON.parse(
            Array(try runProgram(Self.python, [Self.root + "/Tests/IntegrationTests/prometheus_parse.py", file]).utf8))
        func samples(_ family: String) -> [[JSON]] {
            (parsed[family]?["samples"]?.arrayValue ?? [JSON]()).compactMap { $0.arrayValue }
        }
        #expect(samples("superbot_up").first?[2] == 1)
        #expect(parsed["superbot_rpc_requests"]?["type"] == "counter")
        let webuiRunning = samples("superbot_module_state").first {
            $0[1]["module"] == "webui" && $0[1]["state"] == "running"
        }
        #expect(webuiRunning?[2] == 1)
        #expect(samples("superbot_module_resident_memory_bytes").count == 4)
        #expect(samples("superbot_module_cpu_seconds").count == 4)
        #expect(samples("superbot_engine_equity").contains { $0[1]["symbol"] == "BTCUSDT" })
        #expect(parsed["superbot_engine_cycle_seconds"]?["type"] == "summary")
        #expect(samples("superbot_engine_cycle_seconds").contains { $0[0] == "superbot_engine_cycle_seconds_count" })
        #expect(!samples("superbot_connector_requests").isEmpty)
        #expect(!samples("superbot_bus_published").isEmpty)
    }

    @Test func tokenAndCrossOriginRules() throws {
        let token = "s3cret-token"
        let s = try start(token: token)
        defer { s.h.cleanup() }
        #expect(waitForEngines(s, token: token))
        #expect(try request(s, "GET", "/").status == 200, "the page is public: it asks for the token")
        #expect(try request(s, "GET", "/health").status == 200)
        #expect(try request(s, "GET", "/api/v1/ping").status == 200)
        for path in ["/engines/status", "/api/v1/modules", "/metrics", "/api/v1/events"] {
            #expect(try request(s, "GET", path).status == 401, "\(path) without a token")
            #expect(try request(s, "GET", path, token: "wrong").status == 401, "\(path) with a wrong token")
        }
        let refused = try request(s, "GET", "/engines/status", token: "s3cret-tokenX")
        #expect(refused.status == 401 && refused.headers["www-authenticate"] == "Bearer")
        #expect(try request(s, "GET", "/engines/status", token: token).status == 200)
        #expect(try request(s, "POST", "/engines/stop/BTCUSDT").status == 401)

        // Another site in the operator's browser: refused even with the token.
        let crossOrigin = try request(
            s, "POST", "/engines/stop/BTCUSDT", [("Origin", "http://evil.example")], token: token)
        #expect(crossOrigin.status == 403)
        let crossSite = try request(
            s, "POST", "/engines/stop/BTCUSDT", [("Sec-Fetch-Site", "cross-site")], token: token)
        #expect(crossSite.status == 403)
        #expect(get(s, "/engines/status/BTCUSDT", token: token)?["status"] == "running", "nothing was stopped")
        let sameOrigin = try request(
            s, "POST", "/engines/stop/BTCUSDT", [("Origin", "http://\(host(s))"), ("Sec-Fetch-Site", "same-origin")],
            token: token)
        #expect(sameOrigin.status == 200)
    }

    /// A daemon killed and started again: the web UI (adopted, never restarted) says 503 meanwhile,
    /// reconnects by itself and serves fresh figures again.
    @Test func survivesADaemonRestart() throws {
        let s = try start()
        defer { s.h.cleanup() }
        #expect(waitForEngines(s))
        let webPID = try #require(s.h.pid("webui"))
        s.h.killDaemonHard()
        #expect(waitUntil(10) { (try? json(s, "GET", "/api/v1/health"))?.1["status"] == "down" })
        #expect(try json(s, "GET", "/engines/status").0 == 503)
        #expect(try request(s, "GET", "/health").status == 200, "the web UI itself is up")
        try s.h.startDaemon()
        #expect(waitForEngines(s), "the web UI reconnected")
        #expect(s.h.pid("webui") == webPID, "adopted, not restarted")
        #expect(waitUntil(10) { get(s, "/api/v1/health")?["status"] == "ok" })
    }

    @Test func manyIdleStreamsDoNotStallOthers() throws {
        let s = try start()
        defer { s.h.cleanup() }
        #expect(waitUntil(30) { get(s, "/api/v1/ping") != nil })
        var streams: [HTTPTestClient] = []
        for _ in 0..<1000 {
            streams.append(try stream(s, "/api/v1/events"))
        }
        // A slowloris client holding half a request, too.
        let slow = try HTTPTestClient(port: s.port)
        try slow.send("GET /engines/status HTTP/1.1\r\nHost: x\r\n")
        let started = Clock.monotonic()
        #expect(get(s, "/api/v1/ping") == ["status": "pong"])
        #expect(Clock.monotonic() - started < 5, "another client waited behind 1,000 streams")
        #expect(waitUntil(10) { (get(s, "/api/v1/modules/webui")?["state"]) == "running" })
        streams.removeAll()
        #expect(get(s, "/api/v1/ping") == ["status": "pong"])
    }
}
