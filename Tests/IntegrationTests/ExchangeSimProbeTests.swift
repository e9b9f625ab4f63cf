import Dispatch
import HTTP
import JSON
import SuperBotTesting
import SystemKit
import Testing

/// What a probe of exchange-sim found, against the real process.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ExchangeSimProbeTests {
    @Test func thirtyThousandPipelinedPingsAreAllAnswered() throws {
        let sim = try SimProcess(["--weight-limit", "1000000"])
        let client = try HTTPTestClient(port: sim.port)
        let count = 30_000
        let burst = Array(String(repeating: "GET /api/v3/ping HTTP/1.1\r\nHost: sim\r\n\r\n", count: count).utf8)
        let fd = client.fd
        let sent = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? Socket.sendAll(fd, burst)
            sent.signal()
        }
        var answered = 0
        while answered < count, let response = try client.next() {
            #expect(response.status == 200)
            answered += 1
        }
        sent.wait()
        #expect(answered == count)
    }

    @Test func faultSettingsAreValidatedWhateverTheirEncoding() throws {
        let sim = try SimProcess()
        let client = try HTTPTestClient(port: sim.port)
        func post(_ contentType: String, _ body: String) throws -> (Int, JSON?) {
            try client.send(
                "POST /sim/faults HTTP/1.1\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            let response = try #require(try client.next())
            return (response.status, try? JSON.parse(response.body))
        }
        let (badStatus, bad) = try post("application/json", "{\"error_rate\": 0.5")
        #expect(badStatus == 400)
        #expect(bad?["msg"]?.stringValue?.contains("not a JSON object") == true)
        let (typoStatus, typo) = try post("application/x-www-form-urlencoded", "eror_rate=0.5")
        #expect(typoStatus == 400)
        #expect(typo?["msg"]?.stringValue?.contains("'eror_rate'") == true)
        #expect(try post("application/json", "{\"error_rate\": 2}").0 == 400)
        let (okStatus, ok) = try post("application/json", "{\"latency_ms\": 1, \"error_rate\": 0}")
        #expect(okStatus == 200)
        #expect(ok?["latency_ms"]?.doubleValue == 1)
        // A request that is not HTTP gets Binance's error shape, then a close.
        try client.send("GET /api/v3/ping HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        let refused = try #require(try client.next())
        #expect(refused.status == 400)
        #expect((try? JSON.parse(refused.body))?["code"]?.doubleValue == -1100)
        #expect(try client.next() == nil)
    }
}
