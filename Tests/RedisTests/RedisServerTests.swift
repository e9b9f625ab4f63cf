import Dispatch
import Glibc
import SuperBotTesting
import SystemKit
import Testing

@testable import Redis

/// Our client against a real redis-server (Debian's package; `.ci/run` installs it), each test
/// on a server of its own.
@Suite(.serialized) struct RedisServerTests {
    init() {
        #expect(RedisServer.isInstalled, "redis-server is missing: apt-get install redis-server (.ci/run does)")
    }

    @Test func commandsOverUnixAndTCP() throws {
        guard RedisServer.isInstalled else { return }
        let server = try RedisServer(tcp: true)
        for text in [server.unixURL, server.tcpURL] {
            let client = RedisClient(url: try RedisURL(parsing: text))
            #expect(try client.ping())
            try client.set("k", Array("v\u{0}\r\n".utf8))
            #expect(try client.get("k") == Array("v\u{0}\r\n".utf8))
            #expect(try client.get("missing") == nil)
            #expect(try client.set("k", [1], nx: true) == false, "NX keeps the old value")
            #expect(try client.set("fresh", [1], nx: true) == true)
            #expect(try client.mget(["k", "missing", "fresh"]) == [Array("v\u{0}\r\n".utf8), nil, [1]])
            #expect(try client.del(["k", "fresh", "missing"]) == 2)
        }
    }

    @Test func expiryPipeliningScanAndDatabases() throws {
        guard RedisServer.isInstalled else { return }
        let server = try RedisServer()
        let client = RedisClient(url: try RedisURL(parsing: server.unixURL))
        try client.set("short", [1], px: 50)
        #expect(try client.get("short") != nil)
        #expect(waitUntil(3) { (try? client.get("short")) == .some(nil) }, "PX expires the key")

        let connection = try RedisConnection(try RedisURL(parsing: server.unixURL))
        let replies = try connection.pipeline((0..<1000).map { ["SET", "p:\($0)", "\($0)"] } + [["DBSIZE"]])
        #expect(replies.count == 1001 && replies[0] == .simple("OK") && replies[1000].integer == 1000)
        #expect(Set(try client.keys(matching: "p:1*")).count == 111)  // 1, 10–19, 100–199

        let other = RedisClient(url: try RedisURL(parsing: server.unixURL + "?db=5"))
        #expect(try other.get("p:1") == nil, "SELECT 5 sees its own keys")
        try other.set("p:1", Array("five".utf8))
        #expect(try client.get("p:1") == Array("1".utf8))
        #expect(connection.protocolVersion == 3)
    }

    @Test func publishAndPatternSubscribe() throws {
        guard RedisServer.isInstalled else { return }
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.unixURL)
        let subscriber = try RedisSubscriber(url)
        try subscriber.psubscribe(["sb.price.*"])
        try subscriber.subscribe(["sb.exact"])
        let client = RedisClient(url: url)
        #expect(try client.publish("sb.price.BTCUSDT", Array("65000".utf8)) == 1)
        #expect(try client.publish("sb.exact", [0, 1, 2]) == 1)
        #expect(try client.publish("sb.other", [9]) == 0)
        let first = try subscriber.next(within: 2)
        #expect(first == .init(channel: "sb.price.BTCUSDT", pattern: "sb.price.*", payload: Array("65000".utf8)))
        #expect(try subscriber.next(within: 2) == .init(channel: "sb.exact", pattern: nil, payload: [0, 1, 2]))
        #expect(try subscriber.next(within: 0.2) == nil)
    }

    @Test func authIsRequiredAndWrongPasswordsAreRefused() throws {
        guard RedisServer.isInstalled else { return }
        let server = try RedisServer(password: "s3cret")
        #expect(try RedisClient(url: try RedisURL(parsing: server.unixURL + "?password=s3cret")).ping())
        #expect {
            _ = try RedisConnection(try RedisURL(parsing: server.unixURL + "?password=nope"))
        } throws: { error in
            guard case .server(let message) = error as? RedisError else { return false }
            return message.contains("WRONGPASS") || message.contains("invalid password")
        }
        #expect {
            _ = try RedisClient(url: try RedisURL(parsing: server.unixURL)).ping()
        } throws: { error in
            guard case .server(let message) = error as? RedisError else { return false }
            return message.hasPrefix("NOAUTH")
        }
    }

    @Test func aKilledServerIsReconnectedAfterTheBackoff() throws {
        guard RedisServer.isInstalled else { return }
        let server = try RedisServer()
        let clock = ManualClock()
        let client = RedisClient(
            url: try RedisURL(parsing: server.unixURL), backoff: Backoff(base: 1, cap: 8), clock: { clock.now() },
            random: { 0.5 })
        #expect(try client.ping())
        server.kill()
        #expect(throws: RedisError.self) { _ = try client.ping() }
        #expect(client.status.connected == false && client.status.failures == 1)
        try server.start()
        // Within the backoff nothing is tried: "down" at once, without a connection attempt.
        #expect(throws: RedisError.self) { _ = try client.ping() }
        #expect(client.status.failures == 1)
        clock.advance(by: 1)
        #expect(try client.ping())
        #expect(client.status.connected && client.status.reconnects == 1)
    }

    @Test func aHostThatNeverAnswersTimesOutInsteadOfHanging() throws {
        // A listener that never accepts, with its backlog full: the next SYN gets no answer.
        let listener = try Socket.listenTCP(host: "127.0.0.1", port: 0, backlog: 0)
        defer { close(listener) }
        let port = Socket.localPort(listener)
        var filler: [Int32] = []
        defer { for fd in filler { close(fd) } }
        for _ in 0..<8 {
            if let fd = try? Socket.connectTCP(host: "127.0.0.1", port: port, nonBlocking: true) { filler.append(fd) }
        }
        let start = Clock.monotonic()
        #expect(throws: RedisError.self) {
            _ = try RedisConnection(RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)), timeout: 0.3)
        }
        #expect(Clock.monotonic() - start < 3, "gave up near the timeout, not after the kernel's retries")
    }

    @Test func aServerThatAnswersGarbageIsAProtocolErrorNotACrash() throws {
        let dir = temporaryDirectory("garbage")
        defer { removeTree(dir) }
        let path = dir + "/fake.sock"
        let listener = try Socket.listenUnix(path: path, mode: 0o600)
        defer { close(listener) }
        DispatchQueue(label: "fake-redis").async {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 5000)
            guard let fd = Socket.accept(listener) else { return }
            var buf = [UInt8](repeating: 0, count: 4096)
            _ = read(fd, &buf, buf.count)
            try? Socket.sendAll(fd, Array("$99999999999\r\nxx".utf8))
            Clock.sleep(0.5)
            close(fd)
        }
        #expect {
            _ = try RedisConnection(try RedisURL(parsing: "unix://" + path), timeout: 2)
        } throws: { error in
            guard case .protocolError = error as? RedisError else { return false }
            return true
        }
    }
}
