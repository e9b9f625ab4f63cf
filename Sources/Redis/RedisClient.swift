import Synchronization
import SystemKit

/// Redis commands over one connection that is made again when it breaks: a failed call marks
/// the server down and the next attempt waits out an exponential backoff with jitter, so a
/// caller on an event loop is told "down" at once instead of blocking on every call.
/// Thread-safe (one call at a time).
public final class RedisClient: Sendable {
    public struct Status: Sendable, Equatable {
        public var connected = false
        /// Calls that failed on the connection (not the server's refusals).
        public var failures = 0
        public var reconnects = 0
        public var lastError: String?
        /// Monotonic time before which no new connection is tried.
        public var retryAt = 0.0
    }

    public let url: RedisURL
    public let timeout: Double
    private let clock: @Sendable () -> Double
    private let random: @Sendable () -> Double
    private struct State: ~Copyable {
        var connection: RedisConnection?
        var backoff: Backoff
        var status = Status()
        var everConnected = false
    }
    private let state: Mutex<State>

    public init(
        url: RedisURL, timeout: Double = 1, backoff: Backoff = Backoff(base: 0.1, cap: 5),
        clock: @escaping @Sendable () -> Double = Clock.monotonic,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.url = url
        self.timeout = timeout
        self.clock = clock
        self.random = random
        state = Mutex(State(backoff: backoff))
    }

    public var status: Status { state.withLock { $0.status } }

    /// Runs `body` on the connection, connecting first when needed and allowed.
    public func withConnection<T: Sendable>(_ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        try state.withLock { (s: inout State) throws(RedisError) -> T in
            if s.connection == nil {
                let now = clock()
                guard now >= s.status.retryAt else {
                    throw .connection("down since the last failure (\(s.status.lastError ?? "?")); retrying later")
                }
                do throws(RedisError) {
                    s.connection = try RedisConnection(url, timeout: timeout)
                    if s.everConnected { s.status.reconnects += 1 }
                    s.everConnected = true
                    s.status.connected = true
                    s.backoff.reset()
                } catch {
                    fail(&s, error)
                    throw error
                }
            }
            do throws(RedisError) {
                return try body(s.connection!)
            } catch {
                if case .server = error { throw error }
                fail(&s, error)
                throw error
            }
        }
    }

    private func fail(_ s: inout State, _ error: RedisError) {
        s.connection = nil
        s.status.connected = false
        s.status.failures += 1
        s.status.lastError = error.description
        s.status.retryAt = clock() + s.backoff.next(unit: random())
    }

    /// The reply, with a server error thrown as `.server`.
    public func call(_ arguments: [[UInt8]]) throws(RedisError) -> RESPValue {
        let reply = try withConnection { (c) throws(RedisError) in try c.call(bytes: arguments) }
        if let e = reply.errorMessage { throw .server(e) }
        return reply
    }

    public func call(_ arguments: [String]) throws(RedisError) -> RESPValue {
        try call(arguments.map { Array($0.utf8) })
    }

    public func ping() throws(RedisError) -> Bool { try call(["PING"]).string == "PONG" }

    public func get(_ key: String) throws(RedisError) -> [UInt8]? {
        let r = try call(["GET", key])
        return r.isNull ? nil : r.bytes
    }

    /// SET with an expiry in milliseconds and NX (only if absent); false when NX kept the old value.
    @discardableResult
    public func set(_ key: String, _ value: [UInt8], px: Int? = nil, nx: Bool = false) throws(RedisError) -> Bool {
        var args: [[UInt8]] = [Array("SET".utf8), Array(key.utf8), value]
        if let px { args += [Array("PX".utf8), Array(String(px).utf8)] }
        if nx { args.append(Array("NX".utf8)) }
        return !(try call(args)).isNull
    }

    @discardableResult
    public func del(_ keys: [String]) throws(RedisError) -> Int {
        guard !keys.isEmpty else { return 0 }
        return Int(try call(["DEL"] + keys).integer ?? 0)
    }

    public func mget(_ keys: [String]) throws(RedisError) -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        guard let items = try call(["MGET"] + keys).elements, items.count == keys.count else {
            throw .protocolError("MGET of \(keys.count) keys did not answer \(keys.count) values")
        }
        return items.map { $0.isNull ? nil : $0.bytes }
    }

    /// One SCAN step: the next cursor ("0" when done) and the keys of this page.
    public func scan(cursor: String = "0", match: String? = nil, count: Int = 100) throws(RedisError)
        -> (cursor: String, keys: [String])
    {
        var args = ["SCAN", cursor, "COUNT", String(count)]
        if let match { args += ["MATCH", match] }
        guard let parts = try call(args).elements, parts.count == 2, let next = parts[0].string,
            let keys = parts[1].elements
        else { throw .protocolError("SCAN reply is not [cursor, keys]") }
        return (next, keys.compactMap(\.string))
    }

    /// Every key matching `pattern` (SCAN to the end: never KEYS, which blocks the server).
    public func keys(matching pattern: String) throws(RedisError) -> [String] {
        var cursor = "0"
        var out: [String] = []
        repeat {
            let page = try scan(cursor: cursor, match: pattern, count: 500)
            out += page.keys
            cursor = page.cursor
        } while cursor != "0"
        return out
    }

    @discardableResult
    public func publish(_ channel: String, _ message: [UInt8]) throws(RedisError) -> Int {
        Int(try call([Array("PUBLISH".utf8), Array(channel.utf8), message]).integer ?? 0)
    }
}
