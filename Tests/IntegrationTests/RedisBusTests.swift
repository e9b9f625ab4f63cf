import Glibc
import JSON
import SuperBotTesting
import SystemKit
import Testing

/// Two daemons on one machine sharing one bus through one real redis-server.
@Suite(.serialized) struct RedisBusTests {
    /// A subscriber on a daemon's socket that collects bus messages.
    final class Listener {
        let client: RawClient
        var messages: [JSON] = []

        init(_ h: Harness, _ patterns: [String]) throws {
            client = try RawClient(h.socketPath)
            Socket.setReceiveTimeout(client.fd, seconds: 0.2)
            let list = patterns.map { "\"\($0)\"" }.joined(separator: ",")
            try client.send(
                #"{"jsonrpc":"2.0","id":1,"method":"bus.subscribe","params":{"patterns":[\#(list)]}}"# + "\n")
            #expect(client.readJSON()?["result"] != nil)
        }

        /// Reads what has arrived (until 0.2 s of quiet).
        func drain() {
            while let m = client.readJSON() {
                if m["method"]?.stringValue == "bus.message" { messages.append(m["params"]!) }
            }
        }

        func topics(_ prefix: String) -> [JSON] {
            messages.filter { $0["topic"]?.stringValue?.hasPrefix(prefix) == true }
        }
    }

    func daemon(_ redis: RedisServer) throws -> Harness {
        try redisDaemon(redis, "bus: {backend: redis}\n  redis: {url: \"\(redis.unixURL)\", prefix: \"t:\"}")
    }

    func bridge(_ h: Harness) -> JSON { (try? h.call("monitoring.metrics"))?["bus.bridge"] ?? .null }

    func publish(_ h: Harness, _ topic: String, _ n: Int) throws {
        _ = try h.call("bus.publish", ["topic": .string(topic), "data": ["n": JSON(n)]])
    }

    /// Publishes probes on A until B hears one of this round: both bridges are up and B is subscribed.
    func probe(from a: Harness, to b: Listener, round: Int) throws -> Bool {
        var n = 0
        return waitUntil(15) {
            n += 1
            try? publish(a, "probe.r\(round)n\(n).x", n)
            b.drain()
            return !b.topics("probe.r\(round)n").isEmpty
        }
    }

    /// `daemon reload` moves a daemon onto the shared bus and off it again, without a restart.
    @Test func aReloadSwitchesTheBusBackend() throws {
        guard let redis = try redisServer() else { return }
        let a = try daemon(redis)
        defer { a.cleanup() }
        let settings = { (backend: String) in
            "bus: {backend: \(backend)}\n  redis: {url: \"\(redis.unixURL)\", prefix: \"t:\"}"
        }
        func reload(_ h: Harness, _ backend: String) throws {
            try FileSystem.writeAtomically(
                h.dir + "/config/infrastructure.yaml", Array("infrastructure:\n  \(settings(backend))\n".utf8))
            _ = try h.call("daemon.reload_config")
        }
        let b = try redisDaemon(redis, settings("memory"))
        defer { b.cleanup() }
        let daemonPID = b.daemonPID
        #expect(bridge(b)["backend"] == "memory")
        let onB = try Listener(b, ["probe.*.x"])
        try publish(a, "probe.r0n1.x", 1)
        onB.drain()
        #expect(onB.topics("probe.").isEmpty, "a memory bus hears no other daemon")

        try reload(b, "redis")
        #expect(bridge(b)["backend"] == "redis")
        #expect(try probe(from: a, to: onB, round: 1), "B joined the shared bus: \(bridge(b).serialized())")
        #expect(b.daemonPID == daemonPID)

        try reload(b, "memory")
        #expect(bridge(b)["backend"] == "memory")
        onB.drain()
        onB.messages.removeAll()
        for n in 1...5 { try publish(a, "probe.r2n\(n).x", n) }
        onB.drain()
        #expect(onB.topics("probe.r2").isEmpty, "back on memory, B hears A no more")
        try publish(b, "probe.local.x", 1)
        onB.drain()
        #expect(onB.topics("probe.local").count == 1, "local delivery went on")
    }

    @Test func aBusAcrossTwoDaemonsThroughRedis() throws {
        guard let redis = try redisServer() else { return }
        let a = try daemon(redis)
        defer { a.cleanup() }
        let b = try daemon(redis)
        defer { b.cleanup() }
        let onA = try Listener(a, ["price.*.update", "alert.redis"])
        let onB = try Listener(b, ["price.*.update", "probe.*.x"])
        let wrongShape = try Listener(b, ["price.*"])
        #expect(
            try probe(from: a, to: onB, round: 1),
            "B never heard A: \(bridge(a).serialized()) \(bridge(b).serialized())")

        for i in 0..<20 { try publish(a, "price.BTCUSDT.update", i) }
        #expect(
            waitUntil(10) {
                onB.drain()
                return onB.topics("price.").count >= 20
            })
        onA.drain()
        let got = onB.topics("price.")
        #expect(got.compactMap { $0["data"]?["n"]?.intValue } == Array(0..<20), "once each, in order")
        #expect(got.allSatisfy { $0["source"]?.stringValue?.contains("@") == true }, "the source gains the host")
        #expect(onA.topics("price.").count == 20, "A delivers its own messages once: no echo from Redis")
        wrongShape.drain()
        #expect(wrongShape.messages.isEmpty, "price.* does not match price.BTCUSDT.update on B either")
        #expect(bridge(b)["received"]?.intValue ?? 0 >= 20 && bridge(a)["forwarded"]?.intValue ?? 0 >= 20)
        // Redis never sends A its own messages: its patterns leave its own channels out.
        #expect(bridge(a)["echoes_skipped"]?.intValue == 0)

        // Redis dies: A's local delivery goes on, the messages for B are dropped and counted, and
        // an alert says so once.
        redis.kill()
        #expect(
            waitUntil(10) {
                try? publish(a, "price.ETHUSDT.update", 0)
                return bridge(a)["state"]?.stringValue == "down"
            })
        for i in 0..<5 { try publish(a, "price.SOLUSDT.update", i) }
        #expect(
            waitUntil(5) {
                onA.drain()
                return onA.topics("price.SOLUSDT").count == 5
            })
        #expect(onA.topics("alert.redis").first?["data"]?["state"]?.stringValue == "down")
        #expect((bridge(a)["dropped"]?.intValue ?? 0) >= 5)

        // It comes back: the bridges reconnect by themselves and the alert clears.
        try redis.start()
        #expect(try probe(from: a, to: onB, round: 2))
        try publish(a, "price.ADAUSDT.update", 1)
        #expect(
            waitUntil(10) {
                onB.drain()
                return onB.topics("price.ADAUSDT").count == 1
            })
        #expect(
            waitUntil(5) {
                onA.drain()
                return onA.topics("alert.redis").last?["data"]?["state"]?.stringValue == "up"
            })
        #expect(onB.topics("price.SOLUSDT").isEmpty, "what was dropped stays dropped (at most once)")
        #expect(bridge(a)["reconnects"]?.intValue ?? 0 >= 1)
    }

    @Test func aRedisThatRefusesTheLoginIsAnOutageWithItsReason() throws {
        guard let redis = try redisServer(password: "right") else { return }
        let h = try redisDaemon(redis, "bus: {backend: redis}\n  redis: {url: \"\(redis.unixURL)?password=wrong\"}")
        defer { h.cleanup() }
        #expect(
            waitUntil(10) {
                let b = bridge(h)
                return b["state"]?.stringValue == "down" && (b["last_error"]?.stringValue ?? "").contains("WRONGPASS")
            }, "\(bridge(h).serialized())")
        // Local delivery does not care.
        let local = try Listener(h, ["a.b"])
        try publish(h, "a.b", 1)
        #expect(
            waitUntil(5) {
                local.drain()
                return local.messages.count == 1
            })
    }

    @Test func garbageOnTheChannelsIsRejectedNotRelayed() throws {
        guard let redis = try redisServer() else { return }
        let b = try daemon(redis)
        defer { b.cleanup() }
        let onB = try Listener(b, [">"])
        #expect(waitUntil(10) { bridge(b)["state"]?.stringValue == "up" })
        let raw = try RedisConnectionProbe(redis.unixURL)
        // Not an envelope; a bad topic; a source that would break the framing; data that is not
        // JSON; a channel of another origin than the envelope's.
        let o = "00000000000000ab"
        for (channel, payload) in [
            ("t:bus.\(o).a.b", "hello"), ("t:bus.\(o).a..b", #"{"o":"\#(o)","h":"h","s":"s","d":1}"#),
            ("t:bus.\(o).a.b", #"{"o":"\#(o)","h":"h","s":"s\"x","d":1}"#),
            ("t:bus.\(o).a.b", #"{"o":"\#(o)","h":"h","s":"s","d":tru}"#),
            ("t:bus.00000000000000cd.a.b", #"{"o":"\#(o)","h":"h","s":"s","d":1}"#),
            ("t:bus.\(o).ok.topic", #"{"o":"\#(o)","h":"h","s":"s","d":{"fine":true}}"#),
        ] {
            try raw.publish(channel, payload)
        }
        #expect(
            waitUntil(10) {
                onB.drain()
                return !onB.messages.isEmpty
            })
        #expect(onB.messages.map { $0["topic"]?.stringValue } == ["ok.topic"])
        #expect(waitUntil(5) { bridge(b)["rejected"]?.intValue == 5 })
    }
}

/// A daemon with no modules and `infrastructure:` set to `body` (its lines after the key), started.
/// A redis-server of the test's own; on a machine without one the test fails, never passes silently.
func redisServer(password: String? = nil) throws -> RedisServer? {
    guard RedisServer.isInstalled else {
        Issue.record("redis-server is missing: apt-get install redis-server (.ci/run does)")
        return nil
    }
    return try RedisServer(password: password)
}

func redisDaemon(_ redis: RedisServer, _ body: String) throws -> Harness {
    let h = try Harness("daemon:\n  modules: {}\n")
    try FileSystem.writeAtomically(h.dir + "/config/infrastructure.yaml", Array("infrastructure:\n  \(body)\n".utf8))
    try h.startDaemon()
    return h
}

/// Publishes straight to Redis with redis-cli's protocol, as another program on the host would.
struct RedisConnectionProbe {
    let fd: Int32
    init(_ url: String) throws {
        fd = try Socket.connectUnix(path: String(url.dropFirst(7)))
        Socket.setReceiveTimeout(fd, seconds: 2)
    }
    func publish(_ channel: String, _ payload: String) throws {
        let args = ["PUBLISH", channel, payload]
        var out = "*\(args.count)\r\n"
        for a in args { out += "$\(a.utf8.count)\r\n\(a)\r\n" }
        try Socket.sendAll(fd, Array(out.utf8))
        var buf = [UInt8](repeating: 0, count: 64)
        _ = recv(fd, &buf, buf.count, 0)
    }
}
