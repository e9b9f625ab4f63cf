import Glibc
import JSON
import RPC
import SuperBotTesting
import SystemKit
import Testing

/// JSON-RPC over the real socket: spec behaviour, hostile clients, many clients.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ControlSocketTests {
    static let config = """
        daemon:
          modules:
            worker: {command: superbot-fixture, args: [--spam, "20"], start_seconds: 0}
          autostart: [worker]
          ipc: {max_message_bytes: 4096, idle_timeout: 1, max_connections: 600}
        """

    @Test func specErrorsAndBatches() throws {
        let h = try Harness(Self.config)
        try h.startDaemon()
        let c = try RawClient(h.socketPath)
        try c.send("{not json\n")
        #expect(c.readJSON()?["error"]?["code"] == -32700)
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"nope.nothing\",\"id\":1}\n")
        let unknown = c.readJSON()
        #expect(unknown?["error"]?["code"] == -32601 && unknown?["id"] == 1)
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"module.status\",\"params\":{\"nam\":\"worker\"},\"id\":2}\n")
        #expect(c.readJSON()?["error"]?["code"] == -32602)
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"module.status\",\"params\":{\"name\":\"wrker\"},\"id\":3}\n")
        let notFound = c.readJSON()
        #expect(notFound?["error"]?["code"] == -32001)
        #expect(notFound?["error"]?["message"]?.stringValue?.contains("did you mean 'worker'") == true)
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"daemon.status\"}\n")  // a notification: no reply
        try c.send(
            "[{\"jsonrpc\":\"2.0\",\"method\":\"daemon.status\",\"id\":\"a\"},7,{\"jsonrpc\":\"2.0\",\"method\":\"module.list\"},{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":\"b\"}]\n"
        )
        let batch = try #require(c.readJSON()?.arrayValue)
        #expect(batch.count == 3)
        #expect(batch[0]["id"] == "a" && batch[0]["result"]?["pid"] != nil)
        #expect(batch[1]["error"]?["code"] == -32600 && batch[1]["id"] == .null)
        #expect(batch[2]["id"] == "b" && batch[2]["error"]?["code"] == -32601)
        try c.send("[]\n")
        #expect(c.readJSON()?["error"]?["code"] == -32600)
        // A message split into single bytes is reassembled.
        for byte in "{\"jsonrpc\":\"2.0\",\"method\":\"daemon.status\",\"id\":9}\n" { try c.send(String(byte)) }
        #expect(c.readJSON()?["id"] == 9)
    }

    @Test func oversizedMessageGetsAnErrorAndTheConnectionIsClosed() throws {
        let h = try Harness(Self.config)
        try h.startDaemon()
        let c = try RawClient(h.socketPath)
        try c.send(
            "{\"jsonrpc\":\"2.0\",\"method\":\"daemon.status\",\"params\":{\"pad\":\""
                + String(repeating: "x", count: 10_000))
        let reply = c.readJSON()
        #expect(reply?["error"]?["code"] == -32600)
        #expect(reply?["error"]?["message"]?.stringValue?.contains("larger than 4096 bytes") == true)
        #expect(c.isClosedByPeer())
        #expect(try h.call("monitoring.metrics")["rpc.oversized_messages"]?.intValue == 1)
    }

    @Test func silentClientIsClosedAfterIdleTimeoutAndNeverStallsOthers() throws {
        let h = try Harness(Self.config)
        try h.startDaemon()
        let silent = try RawClient(h.socketPath)
        let half = try RawClient(h.socketPath)
        try half.send("{\"jsonrpc\":\"2.0\",\"method\":\"daemon.st")  // half a message, never finished
        let begin = Clock.monotonic()
        #expect(try h.call("daemon.status")["pid"] != nil)
        #expect(Clock.monotonic() - begin < 3, "other clients are served while one is silent")
        #expect(silent.isClosedByPeer())
        #expect(half.isClosedByPeer())
    }

    @Test func fiveHundredClientsAtOnce() throws {
        // A normal idle timeout: opening 500 connections may take longer than the 1 s the other tests use.
        let h = try Harness(
            """
            daemon:
              modules: {}
              ipc: {max_connections: 600}
            """)
        try h.startDaemon()
        var clients: [RawClient] = []
        for _ in 0..<500 { clients.append(try RawClient(h.socketPath)) }
        for (i, c) in clients.enumerated() {
            try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"module.list\",\"id\":\(i)}\n")
        }
        var answered = 0
        for (i, c) in clients.enumerated() where c.readJSON()?["id"]?.intValue == i { answered += 1 }
        #expect(answered == 500)
        #expect(try h.call("monitoring.metrics")["rpc.connections"]?.intValue ?? 0 >= 500)
        clients.removeAll()
        #expect(try h.call("daemon.status")["pid"] != nil)
    }

    @Test func connectionsOverTheLimitAreRefusedPolitely() throws {
        let h = try Harness(
            """
            daemon:
              modules: {}
              ipc: {max_connections: 3}
            """)
        try h.startDaemon()
        let held = try (0..<3).map { _ in try RawClient(h.socketPath) }
        for c in held {
            try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"daemon.status\",\"id\":1}\n")
            _ = c.readJSON()
        }
        let extra = try RawClient(h.socketPath)
        #expect(extra.readJSON()?["error"]?["message"]?.stringValue?.contains("too many connections") == true)
        #expect(extra.isClosedByPeer())
    }

    @Test func tokenIsRequiredWhenConfiguredAndTCPServesLoopbackOnly() throws {
        let port = Harness.freePort()
        let h = try Harness(
            """
            daemon:
              modules: {}
              ipc: {auth_token: "s3cret-token", tcp: {enabled: true, port: \(port)}}
            """)
        h.token = "s3cret-token"
        try h.startDaemon()
        let c = try RawClient(h.socketPath)
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"daemon.status\",\"id\":1}\n")
        #expect(c.readJSON()?["error"]?["code"] == -32000)
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"auth.login\",\"params\":{\"token\":\"wrong\"},\"id\":2}\n")
        #expect(c.readJSON()?["error"]?["message"] == "invalid token")
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"auth.login\",\"params\":{\"token\":\"s3cret-token\"},\"id\":3}\n")
        #expect(c.readJSON()?["result"]?["authenticated"] == true)
        try c.send("{\"jsonrpc\":\"2.0\",\"method\":\"daemon.status\",\"id\":4}\n")
        #expect(c.readJSON()?["result"]?["pid"] != nil)

        let tcp = try Socket.connectTCP(host: "127.0.0.1", port: port)
        defer { close(tcp) }
        try FileSystem.writeAll(tcp, Array("{\"jsonrpc\":\"2.0\",\"method\":\"module.list\",\"id\":1}\n".utf8))
        var buffer = [UInt8](repeating: 0, count: 4096)
        Socket.setReceiveTimeout(tcp, seconds: 5)
        let n = buffer.withUnsafeMutableBytes { recv(tcp, $0.baseAddress, $0.count, 0) }
        #expect(n > 0)
        #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self).contains("authentication required"))

        #expect(h.cli(["status"]).code == 1)
        #expect(h.cli(["--token", "s3cret-token", "status"]).code == 0)
    }

    @Test func logsByAKeyFollowWhatAModuleDeclared() throws {
        let h = try Harness(Self.config)
        try h.startDaemon()
        var module: RPCClient? = try h.client()
        // Nothing declared yet: the daemon says who would declare it, not a guessed file name.
        #expect(throws: RPCError.self) { try h.call("logs.stream", ["symbol": "BTCUSDT"]) }
        for bad: JSON in [
            ["symbol": "relative/{symbol}-{date}.jsonl"], ["symbol": "/tmp/no-key-{date}.jsonl"],
            ["sym bol": "/tmp/{sym bol}.jsonl"],
        ] {
            #expect(throws: RPCError.self) { try module!.call("rpc.register", ["methods": [], "logs": bad]) }
        }
        let template = h.dir + "/logs/engine-{symbol}-{date}.jsonl"
        let answer = try module!.call("rpc.register", ["methods": [], "logs": ["symbol": .string(template)]])
        #expect(answer["logs"] == ["symbol"])
        try FileSystem.makeDirectories(h.dir + "/logs")
        let file = h.dir + "/logs/engine-ETHUSDT-\(Clock.utcDay(Clock.wall())).jsonl"
        try FileSystem.writeAtomically(file, Array("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n".utf8))
        let tail = try h.call("logs.stream", ["symbol": "ETHUSDT", "lines": 2])
        #expect(tail["name"] == "engine-ETHUSDT")
        #expect(tail["file"]?.stringValue == file)
        #expect(tail["lines"] == ["{\"n\":2}", "{\"n\":3}"])
        // A value is part of a path: nothing that leaves the directory.
        #expect(throws: RPCError.self) { try h.call("logs.stream", ["symbol": "../../etc/passwd"]) }
        // The declaration outlives the connection (the files do too, while the module restarts).
        module = nil
        #expect(
            waitUntil(5) { (try? h.call("logs.stream", ["symbol": "ETHUSDT", "lines": 1]))?["lines"] == ["{\"n\":3}"] })
    }

    @Test func logsStreamTailsAndFollows() throws {
        let h = try Harness(Self.config)
        try h.startDaemon()
        #expect(h.waitForState("worker", "running"))
        #expect(
            waitUntil(5) { ((try? FileSystem.readString(h.dir + "/logs/worker.log")) ?? "").contains("line 19 of 20") })
        let tail = try h.call("logs.stream", ["name": "worker", "lines": 5])
        let lines = (tail["lines"]?.arrayValue ?? []).compactMap { $0.stringValue }
        #expect(lines.count == 5)
        #expect(lines.last?.hasPrefix("line 19 of 20") == true)
        #expect(lines.first?.hasPrefix("line 15 of 20") == true)

        let follower = try h.client()
        _ = try follower.call("logs.stream", ["name": "worker", "lines": 0, "follow": true])
        _ = try h.call("module.restart", ["name": "worker"])
        let newPID = try #require(h.pid("worker"))
        var seen = false
        let deadline = Clock.monotonic() + 10
        while !seen && Clock.monotonic() < deadline {
            let message = try follower.readMessage()
            if message["params"]?["line"]?.stringValue == "fixture pid=\(newPID) started" { seen = true }
        }
        #expect(seen)
        let daemonTail = try h.call("logs.stream", ["name": "daemon", "lines": 3])
        let first = try #require(daemonTail["lines"]?.arrayValue?.first?.stringValue)
        #expect(try JSON.parse(first)["ts"] != nil, "daemon log lines are JSON objects")
    }
}

/// One client's work is bounded per loop turn, so it cannot hold up another's.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct FairnessTests {
    @Test func aHugeBatchIsAnsweredAcrossTurnsWhileAnotherClientIsServed() throws {
        let h = try Harness(
            """
            daemon:
              modules:
                web: {command: superbot-fixture, start_seconds: 0}
              autostart: [web]
              ipc: {max_message_bytes: 8388608}
            """)
        try h.startDaemon()
        #expect(h.waitForState("web", "running"))
        let count = 20_000
        let batch =
            "[" + (1...count).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"module.list"}"# }.joined(separator: ",")
            + "]\n"
        let heavy = try RawClient(h.socketPath)
        Socket.setReceiveTimeout(heavy.fd, seconds: 60)
        try heavy.send(batch)
        Clock.sleep(0.05)
        // Another client asks while the batch is being worked on, and is answered first.
        let status = try h.call("daemon.status")
        #expect(status["pid"] != nil)
        var byte: UInt8 = 0
        let pending = recv(heavy.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        #expect(pending < 0 && errno == EAGAIN, "the batch had been answered before the other client")
        // The batch is still answered in full, in order.
        let replies = heavy.readJSON()?.arrayValue ?? []
        #expect(replies.count == count)
        #expect(replies.first?["id"] == 1 && replies.last?["id"] == JSON(count))
    }

    @Test func queuedOutputForAllClientsIsBoundedAndTheBiggestAreCutFirst() throws {
        let h = try Harness(
            """
            daemon:
              modules: {}
              ipc: {max_queued_mb: 4, subscriber_queue_mb: 64, subscriber_queue: 10000000}
            """)
        try h.startDaemon()
        // Four subscribers that never read.
        let sleepers = try (0..<4).map { _ in try RawClient(h.socketPath) }
        for s in sleepers {
            try s.send(#"{"jsonrpc":"2.0","id":1,"method":"bus.subscribe","params":{"pattern":"flood.>"}}"# + "\n")
        }
        Clock.sleep(0.2)
        let payload = String(repeating: "x", count: 1000)
        let publisher = try RawClient(h.socketPath)
        let line = #"{"jsonrpc":"2.0","method":"bus.publish","params":{"topic":"flood.a","data":"\#(payload)"}}"# + "\n"
        for _ in 0..<8 { try publisher.send(String(repeating: line, count: 1000)) }
        // 8 MB for each of four subscribers against a 4 MiB bound: the daemon cuts them, with a reason.
        #expect(waitUntil(10) { (try? h.call("monitoring.metrics"))?["rpc.connections_cut"]?.intValue ?? 0 >= 3 })
        #expect(h.daemonLogText().contains("over ipc.max_queued_mb"))
        let cut = sleepers.filter { $0.isClosedByPeer() }.count
        #expect(cut >= 3)
        #expect(try h.call("daemon.status")["pid"] != nil)
    }
}
