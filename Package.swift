// swift-tools-version:6.0
import PackageDescription

/// Release code reaches a concrete generic type's metadata (`[String: JSON]`, say) through a direct
/// accessor, not by demangling its name and looking up its conformances at first use: those lookups
/// scan every conformance record in the binary, and were most of a `superbot-cli status` run's CPU.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(
        ["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"], .when(configuration: .release)),
]

let package = Package(
    name: "SuperBot",
    products: [
        .executable(name: "superbot", targets: ["superbot"]),
        .executable(name: "superbot-cli", targets: ["superbot-cli"]),
        .executable(name: "exchange-sim", targets: ["exchange-sim"]),
        .executable(name: "trading-engine", targets: ["trading-engine"]),
        .executable(name: "superbot-log", targets: ["superbot-log"]),
        .executable(name: "backtest", targets: ["backtest"]),
        .executable(name: "webui", targets: ["webui"]),
    ],
    targets: [
        // Syscalls and _GNU_SOURCE constants that the Glibc module does not expose.
        .target(name: "CShim"),
        .target(name: "SystemKit", dependencies: ["CShim"], swiftSettings: strict),
        .target(name: "JSON", swiftSettings: strict),
        .target(name: "Bus", swiftSettings: strict),
        // The daemon's shared cache: TTL per entry, LRU within entry and byte bounds; a pure value.
        .target(name: "Cache", swiftSettings: strict),
        .target(name: "YAML", swiftSettings: strict),
        // Cron expressions, TZif time zones, trading hours and the scheduler's state machine: pure, no clock.
        .target(name: "Schedule", dependencies: ["SystemKit"], swiftSettings: strict),
        .target(
            name: "SuperBotConfig", dependencies: ["YAML", "JSON", "SystemKit", "Schedule", "Bus", "Redis"],
            swiftSettings: strict),
        // trading.yaml: symbols, engines, exchange, simulator (on SuperBotConfig's YAML and validation helpers).
        .target(
            name: "TradingSettings", dependencies: ["SuperBotConfig", "YAML", "JSON", "SystemKit"],
            swiftSettings: strict),
        .target(name: "Supervision", dependencies: ["SystemKit"], swiftSettings: strict),
        .target(name: "RPC", dependencies: ["JSON", "SystemKit"], swiftSettings: strict),
        .target(name: "SuperBotLog", dependencies: ["JSON", "SystemKit"], swiftSettings: strict),
        // A module's output log: whole lines, rotation by size, retention (the superbot-log writer).
        .target(name: "ModuleLog", dependencies: ["SystemKit"], swiftSettings: strict),
        .executableTarget(name: "superbot-log", dependencies: ["ModuleLog", "SystemKit"], swiftSettings: strict),
        .target(
            name: "SuperBotDaemon",
            dependencies: [
                "SystemKit", "JSON", "Bus", "SuperBotConfig", "Supervision", "RPC", "SuperBotLog", "Schedule",
                "ModuleLog", "Cache", "Redis",
            ],
            swiftSettings: strict),
        .target(
            name: "SuperBotModule", dependencies: ["Bus", "JSON", "RPC", "SuperBotLog", "SystemKit"],
            swiftSettings: strict),
        .target(
            name: "SuperBotCLI", dependencies: ["RPC", "JSON", "SystemKit", "Schedule", "Reports"],
            swiftSettings: strict),
        // The backtest reports on disk, as the CLI and the web UI list and show them.
        .target(name: "Reports", dependencies: ["JSON", "SystemKit"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["SystemKit"], swiftSettings: strict),
        // RESP2/RESP3 and a Redis client of our own (TCP and Unix sockets, pipelining, pub/sub, backoff).
        .target(name: "Redis", dependencies: ["SystemKit"], swiftSettings: strict),
        .target(name: "MarketData", dependencies: ["SystemKit"], swiftSettings: strict),
        // What an engine needs of an exchange (the ExchangeAPI protocol, orders, fills, errors): no I/O.
        .target(name: "ExchangeModel", dependencies: ["MarketData"], swiftSettings: strict),
        .target(
            name: "ExchangeSim",
            dependencies: ["HTTP", "JSON", "MarketData", "TradingSettings", "SuperBotLog", "SystemKit"],
            swiftSettings: strict),
        .target(
            name: "ExchangeConnector", dependencies: ["ExchangeModel", "HTTP", "JSON", "MarketData", "SystemKit"],
            swiftSettings: strict),
        .target(
            name: "Trading", dependencies: ["ExchangeModel", "JSON", "MarketData", "TradingSettings", "SystemKit"],
            swiftSettings: strict),
        .target(
            name: "Engines",
            dependencies: [
                "Trading", "ExchangeModel", "ExchangeConnector", "JSON", "RPC", "TradingSettings", "SuperBotLog",
                "SystemKit",
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "trading-engine",
            dependencies: [
                "Engines", "ExchangeModel", "ExchangeConnector", "JSON", "RPC", "TradingSettings", "SuperBotModule",
                "SystemKit",
            ],
            swiftSettings: strict),
        // Bars through the live strategies and a broker model: statistics, reports, sweeps, walk-forward.
        .target(
            name: "Backtest",
            dependencies: ["Trading", "TradingSettings", "ExchangeModel", "MarketData", "JSON", "SystemKit"],
            swiftSettings: strict),
        .executableTarget(
            name: "backtest",
            dependencies: [
                "Backtest", "ExchangeConnector", "JSON", "SuperBotModule", "TradingSettings", "SystemKit",
            ],
            swiftSettings: strict),
        // The dashboard and HTTP API: a snapshot kept current from the daemon, SSE, Prometheus text.
        .target(
            name: "WebUI", dependencies: ["HTTP", "JSON", "RPC", "Reports", "SuperBotModule", "SystemKit"],
            swiftSettings: strict),
        .executableTarget(
            name: "webui", dependencies: ["WebUI", "SuperBotModule", "SystemKit"], swiftSettings: strict),
        .executableTarget(
            name: "exchange-sim", dependencies: ["ExchangeSim", "SystemKit"], swiftSettings: strict),
        .executableTarget(name: "superbot", dependencies: ["SuperBotDaemon"], swiftSettings: strict),
        // Released as a static executable, so each CLI call skips the dynamic loader (see
        // CStaticExecutable). Debug builds stay dynamic: the test bundle links this target's objects.
        .target(
            name: "CStaticExecutable", publicHeadersPath: ".",
            cSettings: [.define("SUPERBOT_STATIC_EXECUTABLE", .when(configuration: .release))]),
        .executableTarget(
            name: "superbot-cli", dependencies: ["SuperBotCLI", "CStaticExecutable"], swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
        // What the test targets share: deadlines instead of sleeps, a manual clock, a loop on a thread, an HTTP
        // client, the daemon process harness, an in-memory exchange.
        .target(
            name: "SuperBotTesting", dependencies: ["ExchangeModel", "HTTP", "JSON", "MarketData", "RPC", "SystemKit"],
            swiftSettings: strict),
        // libFuzzer targets for our parsers (`make fuzz`); without -DFUZZING it replays saved inputs.
        .executableTarget(
            name: "superbot-fuzz", dependencies: ["HTTP", "JSON", "MarketData", "RPC", "Redis", "Schedule", "YAML"],
            swiftSettings: strict),
        // A child program whose behaviour tests control (exit codes, ignored SIGTERM, grandchildren…).
        .executableTarget(name: "superbot-fixture", dependencies: ["SystemKit"], swiftSettings: strict),
        // A module built on the runtime, for tests: heartbeats, served methods, echoing subscriptions.
        .executableTarget(name: "superbot-fixture-module", dependencies: ["SuperBotModule"], swiftSettings: strict),
        .testTarget(
            name: "SuperBotTests",
            dependencies: [
                "SystemKit", "JSON", "YAML", "Bus", "SuperBotConfig", "Supervision", "RPC", "SuperBotLog",
                "SuperBotCLI", "SuperBotDaemon", "ModuleLog", "SuperBotTesting", "Cache",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ScheduleTests",
            dependencies: ["Schedule", "SuperBotConfig", "SuperBotTesting", "SystemKit", "JSON"],
            exclude: ["croniter_oracle.py"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "SuperBotTesting", "SystemKit"], swiftSettings: strict),
        .testTarget(
            name: "TradingTests",
            dependencies: [
                "HTTP", "MarketData", "ExchangeModel", "ExchangeSim", "ExchangeConnector", "Trading", "Engines",
                "Backtest",
                "SuperBotConfig", "TradingSettings",
                "SuperBotTesting", "SystemKit", "JSON",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RedisTests", dependencies: ["Redis", "SuperBotTesting", "SystemKit"], swiftSettings: strict),
        .testTarget(
            name: "BacktestTests",
            dependencies: [
                "Backtest", "MarketData", "Trading", "TradingSettings", "SuperBotTesting", "SystemKit", "JSON",
            ],
            exclude: ["backtesting_oracle.py", "sma_cross.py"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "SystemKit", "JSON", "RPC", "HTTP", "SuperBotTesting", "ExchangeModel", "ExchangeConnector", "Trading",
                "TradingSettings", "superbot",
                "superbot-cli", "superbot-fixture", "superbot-fixture-module", "superbot-fuzz",
                "exchange-sim", "trading-engine", "superbot-log", "ModuleLog", "backtest", "webui",
            ],
            exclude: ["prometheus_parse.py"], swiftSettings: strict),
        .testTarget(
            name: "WebUITests", dependencies: ["WebUI", "HTTP", "JSON", "SuperBotTesting", "SystemKit"],
            swiftSettings: strict),
    ]
)
