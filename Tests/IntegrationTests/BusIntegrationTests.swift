import Glibc
import JSON
import RPC
import SuperBotTesting
import SystemKit
import Testing

/// The bus relayed by the real daemon between real processes, and modules on the runtime.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct BusIntegrationTests {
    func subscriber(_ h: Harness, _ patterns: [String]) throws -> RPCClient {
        let c = try h.client()
        _ = try c.call("bus.subscribe", ["patterns": .array(patterns.map { .string($0) })])
        return c
    }

    func nextBusMessage(_ c: RPCClient) throws -> JSON {
        while true {
            let m = try c.readMessage()
            if m["method"] == "bus.message" { return m["params"] ?? .null }
        }
    }

    @Test func relayKeepsEachPublishersOrder() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                p1: {command: superbot-fixture-module, args: [--publish, ticks.a, --count, "3000"], start_seconds: 0}
                p2: {command: superbot-fixture-module, args: [--publish, ticks.b, --count, "3000"], start_seconds: 0}
            """)
        try h.startDaemon()
        let sub = try subscriber(h, ["ticks.*"])
        _ = try h.call("module.start", ["names": ["p1", "p2"]])
        var next = ["ticks.a": 0, "ticks.b": 0]
        var lastSeq = 0
        for _ in 0..<6000 {
            let m = try nextBusMessage(sub)
            let topic = try #require(m["topic"]?.stringValue)
            #expect(m["data"]?["n"]?.intValue == next[topic], "message \(next[topic] ?? -1) on \(topic)")
            next[topic, default: 0] += 1
            #expect(m["source"]?.stringValue == (topic == "ticks.a" ? "p1" : "p2"))
            let seq = try #require(m["seq"]?.intValue)
            #expect(seq > lastSeq)
            lastSeq = seq
        }
        #expect(next == ["ticks.a": 3000, "ticks.b": 3000])
    }

    @Test func slowSubscriberLosesTheOldestAndNobodyElseWaits() throws {
        let h = try Harness(
            """
            daemon:
              modules: {}
              ipc: {subscriber_queue: 100}
            """)
        try h.startDaemon()
        let slow = try RawClient(h.socketPath)
        try slow.send(
            "{\"jsonrpc\":\"2.0\",\"method\":\"bus.subscribe\",\"params\":{\"pattern\":\"flood.>\"},\"id\":1}\n")
        #expect(slow.readJSON()?["result"] != nil)
        let fast = try subscriber(h, ["flood.>"])
        let publisher = try RawClient(h.socketPath)
        let pad = String(repeating: "x", count: 1000)
        var chunk = ""
        for i in 0..<20_000 {
            chunk +=
                "{\"jsonrpc\":\"2.0\",\"method\":\"bus.publish\",\"params\":{\"topic\":\"flood.x\",\"data\":{\"n\":\(i),\"pad\":\"\(pad)\"}}}\n"
            if i % 100 == 99 {
                try publisher.send(chunk)
                chunk = ""
                // The fast subscriber keeps up while the slow one never reads.
                for _ in 0..<100 { _ = try nextBusMessage(fast) }
            }
        }
        let begin = Clock.monotonic()
        let metrics = try h.call("monitoring.metrics")
        #expect(Clock.monotonic() - begin < 3, "the daemon answers while a subscriber is stalled")
        let dropped = metrics["bus.dropped"]?.intValue ?? 0
        #expect(dropped > 10_000, "dropped \(dropped)")
        let rss = try h.call("monitoring.resources")["daemon"]?["rss_bytes"]?.intValue ?? 0
        #expect(rss < 200 << 20, "daemon RSS stays bounded: \(rss)")
        // The slow subscriber, reading at last, is told how much it lost, and what it gets is in order.
        var sawDropNotice = false
        var lastN = -1
        var received = 0
        while let m = slow.readJSON() {
            if m["method"] == "bus.dropped" {
                sawDropNotice = true
                #expect((m["params"]?["dropped"]?.intValue ?? 0) > 0)
            } else if let n = m["params"]?["data"]?["n"]?.intValue {
                #expect(n > lastN)
                lastN = n
                received += 1
            }
            if lastN == 19_999 { break }
        }
        #expect(sawDropNotice)
        #expect(lastN == 19_999, "the newest messages are kept")
        #expect(received + dropped == 20_000)
    }

    @Test func methodRoutingAnswersTimesOutAndSaysWhoServes() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                svc: {command: superbot-fixture-module, args: [--serve, fixture.echo], start_seconds: 0}
                slow: {command: superbot-fixture-module, args: [--serve, fixture.slow, --slow, "5"], start_seconds: 0}
              autostart: [svc, slow]
              ipc: {request_timeout: 0.5}
            """)
        try h.startDaemon()
        let svc = try #require(h.pid("svc"))
        #expect(waitUntil(10) { (try? h.call("fixture.echo", ["x": 1])) != nil })
        let answer = try h.call("fixture.echo", ["x": 1])
        #expect(answer["pid"]?.intValue == Int(svc))
        #expect(answer["params"] == ["x": 1])
        #expect(waitUntil(10) { (try? h.call("monitoring.metrics"))?["rpc.registered_methods"]?.intValue == 2 })
        do {
            _ = try h.call("fixture.slow")
            Issue.record("a slow module answered in time")
        } catch let error as RPCError {
            #expect(error.message == "slow did not answer 'fixture.slow' within 0.5 s (ipc.request_timeout)")
        }
        let other = try h.client()
        #expect(throws: RPCError.self) { try other.call("rpc.register", ["methods": ["daemon.evil"]]) }
        do {
            _ = try other.call("rpc.register", ["methods": ["fixture.echo"]])
            Issue.record("a second server took over a method")
        } catch let error as RPCError {
            #expect(error.message == "'fixture.echo' is already served by svc")
        }
        // A serving client that disconnects mid-request: the caller hears why at once.
        let flaky = try RawClient(h.socketPath)
        try flaky.send(
            "{\"jsonrpc\":\"2.0\",\"method\":\"rpc.register\",\"params\":{\"methods\":[\"flaky.thing\"]},\"id\":1}\n")
        #expect(flaky.readJSON()?["result"] != nil)
        let caller = try RawClient(h.socketPath)
        try caller.send("{\"jsonrpc\":\"2.0\",\"method\":\"flaky.thing\",\"id\":5}\n")
        #expect(flaky.readJSON()?["method"] == "flaky.thing")
        close(flaky.fd)
        let failed = caller.readJSON()
        #expect(failed?["id"] == 5)
        #expect(
            failed?["error"]?["message"]?.stringValue?.contains("disconnected before answering 'flaky.thing'") == true)

        _ = try h.call("module.stop", ["name": "svc"])
        do {
            _ = try h.call("fixture.echo")
            Issue.record("a stopped module still answered")
        } catch let error as RPCError {
            #expect(error.code == -32601)
            #expect(error.message.contains("no module serves it"))
        }
    }

    @Test func missedHeartbeatsRestartTheModule() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                hb:
                  command: superbot-fixture-module
                  args: [--heartbeat, "0.1", --heartbeat-for, "1"]
                  healthcheck: {heartbeat: {timeout: 0.5}}
                  restart_delay: 0.1
                  max_restart_attempts: 10
              autostart: [hb]
            """)
        try h.startDaemon()
        #expect(h.waitForState("hb", "running"), "the first heartbeat makes it running")
        #expect(waitUntil(10) { (try? h.status("hb"))?["restarts"]?.intValue ?? 0 >= 1 })
        let reason = try h.status("hb")["reason"]?.stringValue ?? ""
        #expect(reason.hasPrefix("no heartbeat on module.hb.heartbeat"), "\(reason)")
    }

    @Test func runtimeReconnectsAfterTheDaemonRestartsAndKeepsItsSubscriptions() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                svc: {command: superbot-fixture-module, args: [--serve, fixture.echo, --echo, "in.>"], start_seconds: 0}
              autostart: [svc]
            """)
        try h.startDaemon()
        #expect(waitUntil(10) { (try? h.call("fixture.echo")) != nil })
        let pid = try #require(h.pid("svc"))
        h.killDaemonHard()
        try h.startDaemon()
        #expect(h.pid("svc") == pid, "adopted, not restarted")
        #expect(
            waitUntil(10) { (try? h.call("fixture.echo"))?["pid"]?.intValue == Int(pid) },
            "re-registered after reconnecting")
        let sub = try subscriber(h, ["echo.>"])
        #expect(waitUntil(10) { (try? h.call("monitoring.metrics"))?["bus.subscriptions"]?.intValue == 2 })
        _ = try h.call("bus.publish", ["topic": "in.x", "data": ["v": 7]])
        let echoed = try nextBusMessage(sub)
        #expect(echoed["topic"] == "echo.in.x")
        #expect(echoed["data"]?["data"] == ["v": 7])
        #expect(echoed["source"] == "svc")
        let log = try FileSystem.readString(h.dir + "/logs/svc-" + Clock.utcDay(Clock.wall()) + ".jsonl")
        #expect(log.contains("reconnected to the daemon"))
    }

    @Test func daemonPublishesSystemEvents() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                crasher: {command: superbot-fixture, args: [--exit-after, "0.2", --code, "2"], start_seconds: 0, restart_delay: 0.1, max_restart_attempts: 1}
            """)
        try h.startDaemon()
        let events = try subscriber(h, ["module.*", "system.>", "config.>"])
        _ = try h.call("module.start", ["name": "crasher", "wait": false])
        var topics: [String] = []
        while !topics.contains("module.failed") {
            let m = try nextBusMessage(events)
            topics.append(m["topic"]?.stringValue ?? "?")
            #expect(m["source"] == "daemon")
            if m["topic"] == "module.failed" {
                #expect(m["data"]?["reason"]?.stringValue?.contains("exited with code 2") == true)
            }
        }
        #expect(topics == ["module.started", "module.crashed", "module.restarted", "module.crashed", "module.failed"])
        _ = try h.call("daemon.reload_config")
        #expect(try nextBusMessage(events)["topic"] == "config.reloaded")
        kill(h.daemonPID!, SIGTERM)
        #expect(try nextBusMessage(events)["topic"] == "system.shutdown")
    }

    @Test func cliPublishesAndSubscribes() throws {
        let h = try Harness("daemon:\n  modules: {}\n")
        try h.startDaemon()
        let out = h.dir + "/sub.out"
        let cli = try Spawner.spawn(
            SpawnRequest(
                executable: Harness.binary("superbot-cli"),
                arguments: ["superbot-cli", "--socket", h.socketPath, "bus", "sub", "x.>"],
                environment: Environment.all(), workingDirectory: h.dir, outputPath: out))
        defer {
            kill(cli, SIGKILL)
            _ = Harness.waitForExit(cli, timeout: 5)
        }
        #expect(waitUntil(10) { (try? h.call("monitoring.metrics"))?["bus.subscriptions"]?.intValue == 1 })
        let pub = h.cli(["bus", "pub", "x.y", "{\"k\":1}"])
        #expect(pub.code == 0 && pub.output == "delivered to 1 subscriber(s)\n")
        #expect(waitUntil(10) { ((try? FileSystem.readString(out)) ?? "").contains("\"topic\":\"x.y\"") })
        let line = try FileSystem.readString(out).split(separator: "\n")[0]
        #expect(try JSON.parse(String(line))["data"] == ["k": 1])
        #expect(h.cli(["bus", "pub", "x.*", "1"]).code == 1)
        #expect(h.cli(["bus", "pub", "x.y", "{bad"]).code == 2)
        #expect(h.cli(["bus", "sub"]).code == 2)
    }

    @Test func thousandSubscriptionsOnOneConnectionAndBadPatterns() throws {
        let h = try Harness("daemon:\n  modules: {}\n")
        try h.startDaemon()
        let c = try h.client()
        let patterns: [JSON] = (0..<1000).map { .string("s.\($0).>") }
        let result = try c.call("bus.subscribe", ["patterns": .array(patterns)])
        #expect(result["subscriptions"] == 1000)
        do {
            _ = try c.call("bus.subscribe", ["patterns": ["ok.*", "bad..pattern"]])
            Issue.record("a bad pattern was accepted")
        } catch let error as RPCError {
            #expect(error.code == -32602)
            #expect(error.message.contains("empty segment"))
        }
        #expect(try h.call("monitoring.metrics")["bus.subscriptions"] == 1000, "nothing of a refused list is added")
        _ = try h.call("bus.publish", ["topic": "s.500.x.y", "data": "hello"])
        _ = try h.call("bus.publish", ["topic": "s.1000.x", "data": "nobody"])
        _ = try h.call("bus.publish", ["topic": "s.7.z", "data": "again"])
        #expect(try nextBusMessage(c)["data"] == "hello")
        #expect(try nextBusMessage(c)["data"] == "again")
        #expect(try c.call("bus.unsubscribe")["subscriptions"] == 0)
    }
    /// The relay remembers the last topic and whom it matched: every change of subscriptions
    /// (a subscribe, an unsubscribe, a subscriber gone) must be seen on the very next publish.
    @Test func aRepeatedTopicFollowsEveryChangeOfSubscriptions() throws {
        let h = try Harness("daemon:\n  modules: {}\n")
        try h.startDaemon()
        let publisher = try h.client()
        func publish(_ data: JSON, on topic: String = "price.BTC.update") throws -> Int? {
            try publisher.call("bus.publish", ["topic": .string(topic), "data": data])["delivered"]?.intValue
        }
        #expect(try publish("nobody yet") == 0)
        let first = try subscriber(h, ["price.BTC.update"])
        #expect(try publish("one") == 1)
        let second = try subscriber(h, ["price.*.update"])
        #expect(try publish("two") == 2)
        #expect(try nextBusMessage(first)["data"] == "one")
        #expect(try nextBusMessage(first)["data"] == "two")
        #expect(try nextBusMessage(second)["data"] == "two")
        #expect(try first.call("bus.unsubscribe")["subscriptions"] == 0)
        #expect(try publish("three") == 1)
        #expect(try nextBusMessage(second)["data"] == "three")
        shutdown(second.fd, Int32(SHUT_RDWR))
        #expect(waitUntil(10) { (try? publish("four")) == 0 }, "a closed subscriber is still matched")
        do {
            _ = try publish("bad", on: "price..update")
            Issue.record("an invalid topic after valid ones was relayed")
        } catch let error as RPCError {
            #expect(error.code == -32602)
        }
        #expect(try publish("five") == 0)
    }
}
