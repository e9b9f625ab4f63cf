import HTTP
import Testing

@Suite struct HTTPRouterTests {
    func router() -> HTTPRouter<String> {
        var r = HTTPRouter<String>()
        r.get("/engines/status", "all")
        r.get("/engines/status/{symbol}", "one")
        r.post("/engines/{action}/{symbol}", "act")
        r.get("/api/v1/modules/{name}", "module")
        r.get("/api/v1/modules/list", "literal")
        return r
    }

    func found(_ m: HTTPRouter<String>.Match) -> (String, [String: String])? {
        if case .found(let h, let p) = m { return (h, p) }
        return nil
    }

    @Test func parametersAreCapturedAndDecoded() {
        let r = router()
        #expect(found(r.match(method: "GET", path: "/engines/status"))?.0 == "all")
        let one = found(r.match(method: "GET", path: "/engines/status/BTCUSDT"))
        #expect(one?.0 == "one" && one?.1 == ["symbol": "BTCUSDT"])
        let act = found(r.match(method: "POST", path: "/engines/restart/ETH%55SDT"))
        #expect(act?.1 == ["action": "restart", "symbol": "ETHUSDT"])
        #expect(
            found(r.match(method: "GET", path: "/engines/status/"))?.0 == "all", "a trailing slash is the same path")
    }

    @Test func aLiteralSegmentWinsOverAParameter() {
        let r = router()
        #expect(found(r.match(method: "GET", path: "/api/v1/modules/list"))?.0 == "literal")
        #expect(found(r.match(method: "GET", path: "/api/v1/modules/webui"))?.1 == ["name": "webui"])
    }

    @Test func wrongMethodIs405WithTheAllowedOnesAndHEADFindsGET() {
        let r = router()
        guard case .methodNotAllowed(let allowed) = r.match(method: "DELETE", path: "/engines/status/BTCUSDT") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["GET", "POST"])
        #expect(found(r.match(method: "HEAD", path: "/engines/status"))?.0 == "all")
        guard case .notFound = r.match(method: "GET", path: "/nowhere/at/all/here") else {
            Issue.record("expected 404")
            return
        }
        #expect(r.patterns.contains("/engines/status/{symbol}"))
    }
}
