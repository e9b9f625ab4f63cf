import Glibc
import HTTP
import JSON
import Reports
import SuperBotModule
import SystemKit

/// The web UI on one event loop: the shared HTTP server, routes over a `WebState` that a
/// `DaemonPoller` keeps current, the SSE `EventHub`, and actions that ask the daemon.
public final class WebUIServer {
    typealias Route = (HTTPRequest, [String: String], HTTPResponseWriter) -> Void

    public let options: WebUIOptions
    public let state = WebState()
    let runtime: ModuleRuntime
    let loop: EventLoop
    let access: AccessPolicy
    let hub: EventHub
    let poller: DaemonPoller
    let actions: WebActions
    private(set) var server: HTTPServer!
    private var router = HTTPRouter<Route>()
    private var logStreams = 0

    public init(options: WebUIOptions, runtime: ModuleRuntime, loop: EventLoop) throws {
        self.options = options
        self.runtime = runtime
        self.loop = loop
        access = AccessPolicy(token: options.token)
        let hub = EventHub(loop: loop, capacity: options.events, heartbeat: options.heartbeat)
        self.hub = hub
        let executor = try LoopExecutor(loop: loop)
        let bound = LoopBound(hub, executor: executor)
        poller = DaemonPoller(runtime: runtime, state: state, interval: options.refresh) { message in
            bound.execute {
                $0.publish(topic: message.topic, source: message.source, ts: message.timestamp, data: message.data)
            }
        }
        actions = WebActions(runtime: runtime, state: state, poller: poller)
        var limits = HTTPServer.Limits()
        limits.maxConnections = 4096
        limits.maxBodyBytes = 64 << 10
        limits.maxOutputBytes = 1 << 20
        limits.requestTimeout = 10
        addRoutes()
        server = try HTTPServer(
            loop: loop, host: options.host, port: options.port, limits: limits, errorResponse: Self.parseError,
            handler: { [unowned self] request, writer in handle(request, writer) })
    }

    public var port: UInt16 { server.port }
    /// Runs work on this server's loop from any thread.
    public var executor: LoopExecutor { server.executor }

    public func start() { poller.start() }

    public func close() { server.close() }

    // MARK: Dispatch

    func handle(_ request: HTTPRequest, _ writer: HTTPResponseWriter) {
        let path = request.path
        switch router.match(method: request.method, path: path) {
        case .notFound:
            writer.respond(Self.json(404, ["detail": .string("Not Found: \(path)")]))
        case .methodNotAllowed(let allowed):
            var response = Self.json(
                405,
                [
                    "detail": .string(
                        "\(request.method) is not allowed on \(path); use \(allowed.joined(separator: ", "))")
                ])
            response.headers.set("Allow", allowed.joined(separator: ", "))
            writer.respond(response)
        case .found(let route, let parameters):
            guard access.authorized(request) else {
                var response = Self.json(401, ["detail": "missing or invalid bearer token (Authorization: Bearer …)"])
                response.headers.set("WWW-Authenticate", "Bearer")
                return writer.respond(response)
            }
            if request.method == "POST", let refusal = AccessPolicy.crossOriginRefusal(request) {
                return writer.respond(Self.json(403, ["detail": .string(refusal)]))
            }
            route(request, parameters, writer)
        }
    }

    /// A request that cannot be parsed gets JSON too, with the parser's reason.
    static func parseError(_ error: HTTPParseError) -> HTTPResponse {
        json(error.status, ["detail": .string(error.message)])
    }

    static func json(_ status: Int, _ body: JSON) -> HTTPResponse {
        json(status, body.serializedBytes())
    }

    static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json", "Cache-Control": "no-store"]

    static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    /// A GET answered from the snapshot, rendered once per snapshot version.
    private func cached(
        chart: Bool = false, _ render: @escaping (WebSnapshot, HTTPRequest, [String: String]) -> WebSnapshot.Answer
    ) -> Route {
        { [unowned self] request, parameters, writer in
            let answer = state.answer(request.target, chart: chart) { s in
                let (status, body) = render(s, request, parameters)
                return (status, body.serializedBytes())
            }
            var response = Self.json(answer.status, answer.body)
            if answer.updated > 0 {
                response.headers.add("X-Data-Age", format2(max(0, Clock.wall() - answer.updated)))
            }
            writer.respond(response)
        }
    }

    private func format2(_ x: Double) -> String {
        let hundredths = Int((x * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    /// An answer that needs the daemon now: computed on the cooperative pool, sent from the loop.
    private func asking(_ body: @escaping @Sendable ([String: String], [String: String]) async -> WebSnapshot.Answer)
        -> Route
    {
        { request, parameters, writer in
            guard let bound = writer.bound else { return }
            let query = request.queryParameters
            Task {
                let (status, json) = await body(parameters, query)
                bound.execute { $0.respond(Self.json(status, json)) }
            }
        }
    }

    static func count(_ query: [String: String], _ key: String, default value: Int, max: Int) -> Int? {
        guard let text = query[key] else { return value }
        guard let n = Int(text), n >= 0, n <= max else { return nil }
        return n
    }

    // MARK: Routes

    private func addRoutes() {
        router.get("/") { _, _, writer in writer.respond(DashboardPage.response) }
        router.get("/app.js") { _, _, writer in writer.respond(DashboardPage.script) }
        router.get("/favicon.ico") { _, _, writer in writer.respond(HTTPResponse(status: 204)) }
        router.get("/health") { [unowned self] _, _, writer in
            let s = state.current
            writer.respond(
                Self.json(
                    200,
                    [
                        "status": "ok", "daemon": s.daemonUp ? "reachable" : "unreachable",
                        "requires_token": .bool(access.requiresToken),
                    ]))
        }
        router.get("/metrics") { [unowned self] request, _, writer in
            let answer = state.answer(request.target) { s in (200, Array(MetricsPage.render(s, now: Clock.wall()).utf8))
            }
            writer.respond(HTTPResponse(status: 200, contentType: PrometheusText.contentType, body: answer.body))
        }

        // The engine API of the multi-engine design.
        router.get("/engines/status", cached { s, _, _ in s.enginesStatus() })
        router.get("/engines/status/{symbol}", cached { s, _, p in s.engine(p["symbol"]!) })
        for action in ["start", "stop", "restart"] {
            router.post(
                "/engines/\(action)/{symbol}", asking { [actions] p, _ in await actions.engine(action, p["symbol"]!) })
            router.post(
                "/api/v1/modules/{name}/\(action)",
                asking { [actions] p, _ in await actions.module(action, p["name"]!) })
        }

        // freqtrade-style /api/v1.
        router.get("/api/v1/ping") { _, _, writer in writer.respond(Self.json(200, ["status": "pong"])) }
        router.get("/api/v1/version") { [unowned self] _, _, writer in
            let s = state.current
            writer.respond(
                Self.json(
                    200,
                    [
                        "version": .string(WebUIServer.version), "api_version": 1,
                        "daemon_version": s.daemon?["version"] ?? .null,
                    ]))
        }
        router.get("/api/v1/health", cached { s, _, _ in s.healthAnswer() })
        router.get("/api/v1/modules", cached { s, _, _ in s.moduleList() })
        router.get("/api/v1/modules/{name}", cached { s, _, p in s.module(p["name"]!) })
        router.get("/api/v1/positions", cached { s, _, _ in s.positionList() })
        router.get("/api/v1/orders", cached { s, r, _ in s.orderList(symbol: r.queryParameters["symbol"]) })
        router.get("/api/v1/balance", cached { s, _, _ in s.balanceAnswer() })
        router.get("/api/v1/profit", cached { s, _, _ in s.profit() })
        router.get("/api/v1/charts", cached(chart: true) { s, _, _ in s.chart(nil) })
        router.get("/api/v1/charts/{symbol}", cached(chart: true) { s, _, p in s.chart(p["symbol"]!) })
        router.get(
            "/api/v1/trades",
            cached { s, r, _ in
                let q = r.queryParameters
                guard let limit = Self.count(q, "limit", default: 100, max: 1000),
                    let offset = Self.count(q, "offset", default: 0, max: Int.max)
                else { return WebSnapshot.detail(400, "limit (0–1000) and offset must be integers ≥ 0") }
                return s.tradePage(symbol: q["symbol"], limit: limit, offset: offset)
            })
        router.get(
            "/api/v1/logs/{name}",
            asking { [actions] p, q in
                guard let lines = Self.count(q, "lines", default: 100, max: 10_000) else {
                    return WebSnapshot.detail(400, "lines must be an integer from 0 to 10000")
                }
                return await actions.logs(p["name"]!, lines: lines)
            })
        // The reports `backtest` wrote (read off the loop: a report's equity curve can be large).
        let reports = options.reportDirectory
        router.get(
            "/api/v1/backtests",
            asking { _, _ in
                let all = ReportIndex.all(in: reports).reversed()
                return (200, ["reports": .array(all.map { ReportIndex.summary(id: $0.id, report: $0.report) })])
            })
        router.get(
            "/api/v1/backtests/{id}",
            asking { p, _ in
                ReportIndex.report(p["id"]!, in: reports).map { (200, $0) }
                    ?? WebSnapshot.detail(404, "Backtest report \(p["id"]!) not found")
            })
        router.get("/api/v1/backtests/{id}/{page}") { _, parameters, writer in
            guard let bound = writer.bound else { return }
            Task {
                let page = ReportIndex.page(parameters["id"]!, parameters["page"]!, in: reports)
                bound.execute { writer in
                    guard let page else {
                        return writer.respond(
                            Self.json(404, ["detail": "no such report page (report.html, sweep.html)"]))
                    }
                    writer.respond(HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: page))
                }
            }
        }
        router.get("/api/v1/events") { [unowned self] request, _, writer in
            hub.attach(
                writer, lastEventID: request.headers["last-event-id"] ?? request.queryParameters["last_event_id"])
        }
        router.get("/api/v1/logs/{name}/stream") { [unowned self] request, parameters, writer in
            streamLog(parameters["name"]!, request, writer)
        }
    }

    private func streamLog(_ name: String, _ request: HTTPRequest, _ writer: HTTPResponseWriter) {
        guard let lines = Self.count(request.queryParameters, "lines", default: 20, max: 10_000) else {
            return writer.respond(Self.json(400, ["detail": "lines must be an integer from 0 to 10000"]))
        }
        guard logStreams < options.maxLogStreams else {
            return writer.respond(
                Self.json(429, ["detail": .string("at most \(options.maxLogStreams) log streams at a time")]))
        }
        guard runtime.isConnected, let bound = writer.bound else {
            return writer.respond(Self.json(503, ["detail": "the SuperBot daemon is not reachable"]))
        }
        logStreams += 1
        writer.startEventStream()
        let loopBound = LoopBound(self, executor: server.executor)
        let follower = LogFollower.start(
            socketPath: runtime.socketPath, token: Environment.get("SUPERBOT_TOKEN"),
            params: ["name": .string(name), "lines": JSON(lines), "follow": true], writer: bound
        ) { loopBound.execute { $0.logStreams -= 1 } }
        writer.onClose = { follower.stop() }
    }

    public static let version = "1.0.0"
}
