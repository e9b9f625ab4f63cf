import HTTP
import MarketData
import SuperBotConfig
import SuperBotTesting
import Testing
import TradingSettings

@Suite struct HTTPParserTests {
    static let pipelined = Array(
        ("GET /api/v3/ticker/price?symbol=BTCUSDT HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /api/v3/order HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 36\r\n\r\nsymbol=BTCUSDT&side=BUY&quantity=0.1"
            + "\r\nDELETE /api/v3/order?symbol=ETH%55SDT&origClientOrderId=a+b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .utf8)

    func parseRequests(_ bytes: [UInt8], chunk: Int) throws -> [HTTPRequest] {
        var parser = HTTPParser(.request)
        var out: [HTTPRequest] = []
        var i = 0
        while i < bytes.count {
            parser.append(bytes[i..<min(bytes.count, i + chunk)])
            i += chunk
            while let r = try parser.nextRequest() { out.append(r) }
        }
        return out
    }

    @Test(arguments: [1, 2, 3, 7, 64, 100_000])
    func pipelinedRequestsInAnyChunking(chunk: Int) throws {
        let requests = try parseRequests(Self.pipelined, chunk: chunk)
        #expect(requests.count == 3)
        #expect(requests[0].method == "GET" && requests[0].parameters["symbol"] == "BTCUSDT" && requests[0].keepAlive)
        #expect(requests[1].parameters == ["symbol": "BTCUSDT", "side": "BUY", "quantity": "0.1"])
        #expect(
            requests[2].method == "DELETE" && requests[2].parameters["symbol"] == "ETHUSDT"
                && requests[2].parameters["origClientOrderId"] == "a b")
        #expect(requests[2].minorVersion == 0 && requests[2].keepAlive)
    }

    @Test(arguments: [1, 5, 1000])
    func chunkedAndUnframedResponses(chunk: Int) throws {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n"
            + "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 2\r\n\r\n{}"
            + "HTTP/1.0 200 OK\r\n\r\nuntil the end"
        let bytes = Array(text.utf8)
        var parser = HTTPParser(.response)
        var out: [HTTPResponse] = []
        var i = 0
        while i < bytes.count {
            parser.append(bytes[i..<min(bytes.count, i + chunk)])
            i += chunk
            while let r = try parser.nextResponse() { out.append(r) }
        }
        #expect(out.count == 2)
        if let r = try parser.nextResponse(atEOF: true) { out.append(r) }
        #expect(out.map(\.status) == [200, 429, 200])
        #expect(String(decoding: out[0].body, as: UTF8.self) == "{\"a\":1}")
        #expect(out[1].headers["retry-after"] == "7")
        #expect(String(decoding: out[2].body, as: UTF8.self) == "until the end")
    }

    @Test(arguments: [
        "GET\r\n\r\n", "get / HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 9999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "GET relative HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nX: \u{0}\r\n\r\n",
    ])
    func malformedRequestsAreErrors(text: String) {
        var parser = HTTPParser(.request)
        parser.append(Array(text.utf8))
        #expect(throws: HTTPParseError.self) { _ = try parser.nextRequest() }
    }

    @Test func oversizedHeadIsRefusedBeforeItEnds() {
        var parser = HTTPParser(.request, maxHeadBytes: 1024)
        parser.append(Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000)).utf8))
        #expect(throws: HTTPParseError(431, "message head exceeds 1024 bytes")) { _ = try parser.nextRequest() }
    }

    @Test func badChunkSizeAndGarbageStatus() {
        var p = HTTPParser(.response)
        p.append(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8))
        #expect(throws: HTTPParseError.self) { _ = try p.nextResponse() }
        var q = HTTPParser(.response)
        q.append(Array("<html>garbage</html>\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { _ = try q.nextResponse() }
    }

    @Test func queryEncodingRoundTrips() {
        let params = [("symbol", "BTCUSDT"), ("id", "sb-a b/c&d=é"), ("empty", "")]
        let decoded = HTTPQuery.parse(HTTPQuery.encode(params))
        #expect(decoded.map(\.0) == params.map(\.0) && decoded.map(\.1) == params.map(\.1))
    }
}

@Suite struct CSVTests {
    @Test func plainAndBinanceShapes() throws {
        let plain = try OHLCVCSV.parse(
            "timestamp,open,high,low,close,volume\n1700000000,1,2,0.5,1.5,10\n1700000060,1.5,2,1,1.8,5\n")
        #expect(plain.count == 2 && plain[0].time == 1_700_000_000_000 && plain[1].close == 1.8)
        let binance = try OHLCVCSV.parse(
            "1700000000000,100,110,90,105,3,1700000059999,315,10,1,105,0\r\n1700000060000,105,106,104,104.5,1,1700000119999,104,3,0,0,0\r\n"
        )
        #expect(binance.count == 2 && binance[1].low == 104)
    }

    @Test(arguments: [
        ("1,2,3\n", 1), ("1700000000,a,2,0.5,1,1\n", 1), ("1700000000,1,2,0.5,1,1\n1700000000,1,2,0.5,1,1\n", 2),
        ("1700000000,1,0.5,0.4,1,1\n", 1), ("1700000000,1,2,0.5,1,-3\n", 1),
        ("t,o,h,l,c,v\n1700000000,1,2,0.5,nan,1\n", 2),
    ])
    func malformedRowsNameTheLine(text: String, line: Int) {
        #expect { _ = try OHLCVCSV.parse(text) } throws: { ($0 as? CSVError)?.line == line }
    }
}

@Suite struct TradingConfigTests {
    func parse(_ body: String) throws -> TradingConfig {
        try TradingConfig.parse("trading:\n" + body, file: "trading.yaml", baseDirectory: "/tmp")
    }

    @Test func overridesMergeKeyByKey() throws {
        let c = try parse(
            """
              symbols:
                BTCUSDT: {strategy: {fast: 3}, risk: {max_order_notional: 2000}}
                ETHUSDT: {}
              engine_defaults:
                cycle_interval: 2
                strategy: {fast: 5, slow: 30}
                risk: {max_order_notional: 800, daily_loss_limit: 50}
            """)
        #expect(c.symbols == ["BTCUSDT", "ETHUSDT"])
        let btc = c.engine("BTCUSDT")!
        let eth = c.engine("ETHUSDT")!
        #expect(btc.strategy.fast == 3 && btc.strategy.slow == 30 && btc.cycleInterval == 2)
        #expect(btc.risk.maxOrderNotional == 2000 && btc.risk.dailyLossLimit == 50)
        #expect(eth.strategy.fast == 5 && eth.risk.maxOrderNotional == 800)
        #expect(c.get("engine_defaults.cycle_interval") == 2)
    }

    @Test(arguments: [
        ("  symbols: [BTCUSDT]\n  engine_defaults: {cycle_intervl: 1}\n", "did you mean 'cycle_interval'"),
        ("  symbols: [btcusdt]\n", "is not a spot symbol"),
        ("  symbols: [BTCUSDT, BTCUSDT]\n", "listed twice"),
        ("  symbols: {BTCUSDT: {strategy: {fast: 30, slow: 20}}}\n", "must be below slow"),
        ("  symbols: [BTCUSDT]\n  exchange: {base_url: \"https://api.binance.com\"}\n", "must be an http:// URL"),
        ("  symbols: [BTCUSDT]\n  simulator: {faults: {error_rate: 1.5}}\n", "probability"),
        ("  symbols: {BTCUSDT: {order_notional: 5000}}\n", "above risk.max_order_notional"),
        ("  engine_defaults: {}\n", "'trading.symbols' is required"),
    ])
    func mistakesAreNamedWithTheirPlace(body: String, message: String) {
        #expect {
            _ = try parse(body)
        } throws: { error in
            let text = "\(error)"
            return text.contains(message) && text.hasPrefix("trading.yaml:")
        }
    }

    @Test func shippedConfigHasFifteenSymbols() throws {
        var root = "\(#filePath)"
        while !root.hasSuffix("/Tests") { root = String(root[..<root.lastIndex(of: "/")!]) }
        root = String(root.dropLast(6))
        let c = try TradingConfig.load(path: root + "/config")
        #expect(c.engines.count == 15)
        #expect(c.exchange.baseURL == "http://127.0.0.1:\(c.simulator.port)")
    }
}
