import Dispatch
import Redis
import SystemKit

/// The cache's Redis side (`infrastructure.cache.backend: redis`): the same keys, under
/// `<prefix>cache:`, so every daemon with that prefix shares one cache. Redis calls run on a
/// queue of their own and answer on the loop; the loop keeps a copy of what it saw in the
/// memory cache and serves that copy while Redis is down.
final class RedisCacheRemote: Sendable {
    /// An entry as Redis holds it: the value and the milliseconds it has left.
    typealias Entry = (bytes: [UInt8], ttl: Double)

    let client: RedisClient
    let prefix: String
    private let queue = DispatchQueue(label: "superbot.redis-cache")
    private let executor: LoopExecutor

    init(url: RedisURL, timeout: Double, prefix: String, loop: EventLoop) throws {
        client = RedisClient(url: url, timeout: timeout)
        self.prefix = prefix + "cache:"
        executor = try LoopExecutor(loop: loop)
    }

    /// Looks `keys` up in Redis (values and TTLs in one pipeline); `then` runs on the loop.
    func get(
        _ keys: [String], then: @escaping (Result<[Entry?], RedisError>) -> Void
    ) {
        let (client, prefix, executor, then) = (client, prefix, executor, OnLoop(then))
        queue.async {
            let result = Result { () throws(RedisError) -> [Entry?] in
                try client.withConnection { (c) throws(RedisError) -> [Entry?] in
                    let replies = try c.pipeline(keys.flatMap { [["GET", prefix + $0], ["PTTL", prefix + $0]] })
                    if let e = replies.first(where: { $0.errorMessage != nil })?.errorMessage { throw .server(e) }
                    return stride(from: 0, to: replies.count, by: 2).map { i -> Entry? in
                        guard let bytes = replies[i].bytes, !replies[i].isNull else { return nil }
                        let ms = replies[i + 1].integer ?? -2
                        // -1: no expiry (set by something else); -2: gone between the two commands.
                        guard ms != -2 else { return nil }
                        return (bytes, ms < 0 ? 60 : Double(ms) / 1000)
                    }
                }
            }
            executor.execute { then.value(result) }
        }
    }

    /// Stores in Redis after the memory copy was made (write-behind); `then` reports the outcome.
    func set(_ key: String, _ bytes: [UInt8], ttl: Double, then: @escaping (RedisError?) -> Void) {
        let (client, prefix, executor, then) = (client, prefix, executor, OnLoop(then))
        queue.async {
            let outcome = Result { () throws(RedisError) in
                try client.set(prefix + key, bytes, px: max(1, Int((ttl * 1000).rounded())))
            }
            executor.execute { then.value(outcome.error) }
        }
    }

    /// How many of `keys` Redis held.
    func delete(_ keys: [String], then: @escaping (Result<Int, RedisError>) -> Void) {
        let (client, prefix, executor, then) = (client, prefix, executor, OnLoop(then))
        queue.async {
            let outcome = Result { () throws(RedisError) in try client.del(keys.map { prefix + $0 }) }
            executor.execute { then.value(outcome) }
        }
    }
}

/// A callback made on the loop, carried through the Redis queue without being called there:
/// it may capture loop-confined state (the daemon) because only the loop's thread runs it.
struct OnLoop<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

extension Result {
    /// The failure, or nil.
    var error: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
