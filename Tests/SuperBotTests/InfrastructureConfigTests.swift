import SuperBotConfig
import Testing

@Suite struct InfrastructureConfigTests {
    func parse(_ body: String) throws -> InfrastructureConfig {
        try InfrastructureConfig.parse("infrastructure:\n" + body, file: "infrastructure.yaml")
    }

    @Test func theShapeOfTheOriginal() throws {
        let c = try parse(
            """
              cache: {backend: memory, max_entries: 500, max_mb: 8, default_ttl: 5}
              bus: {backend: memory}
              redis: {url: "redis://127.0.0.1:6379/0"}
              connection_pool: {min_connections: 2, max_connections: 10, connection_timeout: 30, idle_timeout: 300}
            """)
        #expect(c.cache.maxEntries == 500 && c.cache.maxBytes == 8 << 20 && c.cache.defaultTTL == 5)
        #expect(
            c.bus == .memory && c.redis.url.description == "redis://127.0.0.1:6379/0"
                && c.connectionPool.maxConnections == 10)
        #expect(
            try parse("  {}\n")
                == {
                    var d = InfrastructureConfig()
                    d.file = "infrastructure.yaml"
                    return d
                }())
    }

    @Test(arguments: [
        ("  cache: {backend: memroy}\n", "infrastructure.yaml:2:", "did you mean 'memory'"),
        ("  cache: {max_entries: 0}\n", "infrastructure.yaml:2:", "max_entries"),
        ("  cahce: {}\n", "infrastructure.yaml:2:", "did you mean 'cache'"),
        ("  redis: {url: http://x}\n", "infrastructure.yaml:2:", "redis://"),
        (
            "  connection_pool: {min_connections: 20, max_connections: 10}\n", "infrastructure.yaml:2:",
            "must not exceed"
        ),
        ("  redis: {url: \"redis://h:99999\"}\n", "infrastructure.yaml:2:", "the port must be"),
    ])
    func errorsNameTheLineAndSuggest(body: String, at: String, message: String) {
        #expect {
            _ = try parse(body)
        } throws: { error in
            let text = "\(error)"
            return text.contains(at) && text.contains(message)
        }
    }
}
