import ExchangeModel
import Glibc
import HTTP
import JSON
import SuperBotTesting
import SystemKit
import Testing

@testable import ExchangeConnector

/// A real `exchange-sim` process on a free port, killed when the test ends.
final class SimProcess {
    private(set) var pid: pid_t = 0
    let port: UInt16
    let dir: String
    let flags: [String]

    init(
        _ flags: [String] = [], symbols: String = "BTCUSDT,ETHUSDT,SOLUSDT",
        simulator: String = "speed: 60, history_bars: 50"
    )
        throws
    {
        dir = temporaryDirectory("sbsim")
        self.flags = flags
        try FileSystem.writeAtomically(
            dir + "/trading.yaml",
            Array("trading:\n  data_dir: \(dir)/data\n  symbols: [\(symbols)]\n  simulator: {\(simulator)}\n".utf8))
        port = Harness.freePort()
        try start()
    }

    /// Starts the simulator (again, after `kill`) on the same port and state file.
    func start() throws {
        var env = Environment.all()
        env.append("SUPERBOT_LOG_DIR=\(dir)/logs")
        pid = try Spawner.spawn(
            SpawnRequest(
                executable: Harness.binary("exchange-sim"),
                arguments: ["exchange-sim", "--config", dir + "/trading.yaml", "--port", String(port)] + flags,
                environment: env, workingDirectory: dir, outputPath: dir + "/sim.out"))
        let (port, pid) = (self.port, self.pid)
        var exited = false
        let up = waitUntil(10) {
            exited = Harness.waitForExit(pid, timeout: 0.001) != nil
            return exited
                || (try? Socket.connectTCP(host: "127.0.0.1", port: port)).map {
                    close($0)
                    return true
                } ?? false
        }
        if !up || exited {
            throw HarnessError("exchange-sim did not listen: \((try? FileSystem.readString(dir + "/sim.out")) ?? "")")
        }
    }

    func kill() {
        Glibc.kill(pid, SIGKILL)
        _ = Harness.waitForExit(pid, timeout: 5)
    }

    deinit {
        kill()
        removeTree(dir)
    }

    func client(_ configure: (inout ExchangeClient.Settings) -> Void = { _ in }) throws -> ExchangeClient {
        var s = ExchangeClient.Settings(baseURL: "http://127.0.0.1:\(port)")
        s.timeout = 2
        s.baseDelay = 0.02
        s.maxDelay = 0.2
        configure(&s)
        return try ExchangeClient(s)
    }

    func stats(_ client: ExchangeClient) async throws -> JSON {
        try await client.request("GET", "/sim/stats", [], weight: 0)
    }
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct ExchangeConnectorTests {
    @Test func keepAlivePoolAndCache() async throws {
        let sim = try SimProcess()
        let client = try sim.client {
            $0.minConnections = 1
            $0.maxConnections = 4
            $0.tickerTTL = 5
            $0.orderBookTTL = 0
        }
        defer { client.shutdown() }
        let first = try await client.tickerPrice("BTCUSDT")
        for _ in 0..<49 { #expect(try await client.tickerPrice("BTCUSDT") == first) }
        #expect(client.cache.stats["ticker"] == ResponseCache.KindStats(hits: 49, misses: 1))
        // 60 concurrent uncached requests share at most 4 connections.
        try await withThrowingTaskGroup(of: OrderBook.self) { group in
            for i in 0..<60 {
                group.addTask { try await client.depth(["BTCUSDT", "ETHUSDT", "SOLUSDT"][i % 3], limit: 5) }
            }
            for try await book in group { #expect(book.bids.count == 5 && book.asks[0].price > book.bids[0].price) }
        }
        let pool = client.pool.stats
        #expect(pool.opened <= 4)
        #expect(pool.reused >= 57)
        #expect(client.counterValues.requests == 61)
        let bars = try await client.klines("ETHUSDT", interval: "1m", limit: 30)
        #expect(bars.count == 30 && zip(bars, bars.dropFirst()).allSatisfy { $0.time + 60_000 == $1.time })
    }

    @Test func transientErrorsAndGarbageAreRetried() async throws {
        let sim = try SimProcess(["--error-rate", "0.3", "--garbage-rate", "0.2", "--drop-rate", "0.1"])
        let client = try sim.client {
            $0.tickerTTL = 0
            $0.maxAttempts = 12
        }
        defer { client.shutdown() }
        for _ in 0..<40 {
            let price = try await client.tickerPrice("SOLUSDT")
            #expect(price > 0)
        }
        #expect(client.counterValues.retries > 5)
        #expect(client.counterValues.failures == 0)
    }

    @Test func rateLimitIsRespected() async throws {
        let sim = try SimProcess(["--weight-limit", "20", "--rate-window", "1"])
        let client = try sim.client {
            $0.tickerTTL = 0
            $0.maxAttempts = 20
        }
        defer { client.shutdown() }
        let started = Clock.monotonic()
        for _ in 0..<25 { _ = try await client.tickerPrice("BTCUSDT") }  // 50 weight: at least 2 windows
        #expect(Clock.monotonic() - started >= 1)
        #expect(client.budget.counters.rateLimited >= 1)
        // Having read the limit from exchangeInfo, the budget holds requests back instead of hitting 429s.
        try await Task.sleep(for: .seconds(1.1))
        _ = try await client.exchangeInfo()
        let limited = client.budget.counters.rateLimited
        for _ in 0..<25 { _ = try await client.tickerPrice("BTCUSDT") }
        #expect(client.budget.counters.rateLimited == limited)
        #expect(client.budget.counters.waits >= 1)
    }

    @Test func lostRepliesNeverDuplicateAnOrder() async throws {
        let sim = try SimProcess(["--lose-reply-rate", "0.3"])
        let client = try sim.client { $0.maxAttempts = 15 }
        defer { client.shutdown() }
        for i in 0..<12 {
            let result = try await client.placeOrder(
                NewOrder(symbol: "ETHUSDT", side: .buy, quantity: 0.01, clientOrderId: "t-\(i)"))
            #expect(result.status == "FILLED" && result.clientOrderId == "t-\(i)")
            #expect(abs(result.fills.reduce(0) { $0 + $1.qty } - 0.01) < 1e-12)
        }
        let stats = try await sim.stats(client)
        #expect(stats["orders_placed"]?.intValue == 12)
        #expect(client.counterValues.duplicateOrdersResolved >= 1)
    }

    @Test func anOrderWhoseEveryReplyIsLostHasAnUnknownOutcomeNotARejection() async throws {
        let sim = try SimProcess(["--lose-reply-rate", "1"])
        let client = try sim.client { $0.maxAttempts = 3 }
        defer { client.shutdown() }
        do {
            _ = try await client.placeOrder(
                NewOrder(symbol: "ETHUSDT", side: .buy, quantity: 0.01, clientOrderId: "lost-1"))
            Issue.record("no reply ever came, yet the order succeeded")
        } catch let error as ExchangeError {
            guard case .unknownOutcome = error else {
                Issue.record("expected an unknown outcome, got \(error)")
                return
            }
            #expect(error.mayHaveExecuted && !error.isTransient)
        }
        // Once the exchange answers again, the order is there: it had executed.
        let faults = try HTTPTestClient(port: sim.port)
        try faults.send("POST /sim/faults HTTP/1.1\r\nContent-Length: 17\r\n\r\nlose_reply_rate=0")
        #expect(try faults.next()?.status == 200)
        let found = try await client.queryOrder(symbol: "ETHUSDT", clientOrderId: "lost-1")
        #expect(found?.status == "FILLED")
    }

    @Test func badRequestsAreRejectedNotRetried() async throws {
        let sim = try SimProcess()
        let client = try sim.client()
        defer { client.shutdown() }
        await #expect(throws: ExchangeError.rejected(status: 400, code: -1121, message: "Invalid symbol.")) {
            _ = try await client.tickerPrice("NOPEUSDT")
        }
        for qty in [Double.nan, -1, 0] {
            await #expect(throws: ExchangeError.self) {
                _ = try await client.placeOrder(
                    NewOrder(symbol: "BTCUSDT", side: .buy, quantity: qty, clientOrderId: "x"))
            }
        }
        do {
            _ = try await client.placeOrder(
                NewOrder(symbol: "BTCUSDT", side: .sell, quantity: 5, clientOrderId: "too-much"))
            Issue.record("selling what the account does not hold must be refused")
        } catch ExchangeError.rejected(_, let code, _) {
            #expect(code == -2010)
        }
        #expect(client.counterValues.retries == 0)
        #expect(client.counterValues.requests == 2)
    }

    @Test func aVanishedExchangeFailsFastInsteadOfHanging() async throws {
        let sim = try SimProcess()
        let client = try sim.client {
            $0.maxAttempts = 3
            $0.tickerTTL = 0
        }
        defer { client.shutdown() }
        _ = try await client.tickerPrice("BTCUSDT")
        sim.kill()
        let started = Clock.monotonic()
        await #expect(throws: ExchangeError.self) { _ = try await client.tickerPrice("BTCUSDT") }
        #expect(Clock.monotonic() - started < 5)
    }
}
