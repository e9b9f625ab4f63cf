import Testing

@testable import Redis

@Suite struct RedisURLTests {
    @Test func shapes() throws {
        #expect(
            try RedisURL(parsing: "redis://127.0.0.1:6379/0") == RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6379))
        )
        let full = try RedisURL(parsing: "redis://bot:s3:cr@t@cache.local:6380/2")
        #expect(full.endpoint == .tcp(host: "cache.local", port: 6380) && full.database == 2)
        #expect(full.user == "bot" && full.password == "s3:cr@t")
        #expect(full.description == "redis://bot:***@cache.local:6380/2")
        #expect(try RedisURL(parsing: "redis://:pw@h").password == "pw")
        #expect(try RedisURL(parsing: "redis://h").endpoint == .tcp(host: "h", port: 6379))
        let unix = try RedisURL(parsing: "unix:///run/redis.sock?db=3&password=x")
        #expect(unix.endpoint == .unix(path: "/run/redis.sock") && unix.database == 3 && unix.password == "x")
    }

    @Test(arguments: [
        "http://h", "redis://", "redis://h:0", "redis://h:70000", "redis://h/x", "unix://relative.sock",
        "unix:///s?db=-1", "unix:///s?color=red", "redis://h:port",
    ])
    func badURLsSayWhy(text: String) {
        #expect(throws: RedisURL.Invalid.self) { _ = try RedisURL(parsing: text) }
    }
}
