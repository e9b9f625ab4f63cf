// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "SuperBot",
    products: [
        .executable(name: "superbot", targets: ["superbot"]),
        .executable(name: "superbot-cli", targets: ["superbot-cli"]),
        .executable(name: "exchange-sim", targets: ["exchange-sim"]),
        .executable(name: "trading-engine", targets: ["trading-engine"]),
    ],
    targets: [
        // Syscalls and _GNU_SOURCE constants that the Glibc module does not expose.
        .target(name: "CShim"),
        .target(name: "SystemKit", dependencies: ["CShim"], swiftSettings: strict),
        .target(name: "JSON", swiftSettings: strict),
        .target(name: "Bus", swiftSettings: strict),
        .target(name: "YAML", swiftSettings: strict),
        .target(name: "SuperBotConfig", dependencies: ["YAML", "JSON", "SystemKit"], swiftSettings: strict),
        .target(name: "Supervision", dependencies: ["SystemKit"], swiftSettings: strict),
        .target(name: "RPC", dependencies: ["JSON", "SystemKit"], swiftSettings: strict),
        .target(name: "SuperBotLog", dependencies: ["JSON", "SystemKit"], swiftSettings: strict),
        .target(
            name: "SuperBotDaemon",
            dependencies: ["SystemKit", "JSON", "Bus", "SuperBotConfig", "Supervision", "RPC", "SuperBotLog"],
            swiftSettings: strict),
        .target(name: "SuperBotModule", dependencies: ["Bus", "JSON", "RPC", "SuperBotLog", "SystemKit"], swiftSettings: strict),
        .target(name: "SuperBotCLI", dependencies: ["RPC", "JSON", "SystemKit"], swiftSettings: strict),
        .target(name: "HTTP", dependencies: ["SystemKit"], swiftSettings: strict),
        .target(name: "MarketData", swiftSettings: strict),
        .target(name: "ExchangeSim", dependencies: ["HTTP", "JSON", "MarketData", "SuperBotConfig", "SystemKit"], swiftSettings: strict),
        .target(name: "ExchangeConnector", dependencies: ["HTTP", "JSON", "MarketData", "SystemKit"], swiftSettings: strict),
        .target(name: "Trading", dependencies: ["ExchangeConnector", "JSON", "MarketData", "SuperBotConfig", "SystemKit"], swiftSettings: strict),
        .target(name: "Engines", dependencies: ["Trading", "ExchangeConnector", "JSON", "SuperBotConfig", "SuperBotLog", "SystemKit"], swiftSettings: strict),
        .executableTarget(name: "trading-engine", dependencies: ["Engines", "ExchangeConnector", "JSON", "RPC", "SuperBotConfig", "SuperBotModule", "SystemKit"], swiftSettings: strict),
        .executableTarget(name: "exchange-sim", dependencies: ["ExchangeSim", "HTTP", "SuperBotConfig", "SuperBotLog", "SystemKit"], swiftSettings: strict),
        .executableTarget(name: "superbot", dependencies: ["SuperBotDaemon"], swiftSettings: strict),
        .executableTarget(name: "superbot-cli", dependencies: ["SuperBotCLI"], swiftSettings: strict),
        // What the test targets share: deadlines instead of sleeps, a loop on a thread, an HTTP client.
        .target(name: "SuperBotTesting", dependencies: ["HTTP", "SystemKit"], swiftSettings: strict),
        // A child program whose behaviour tests control (exit codes, ignored SIGTERM, grandchildren…).
        .executableTarget(name: "superbot-fixture", dependencies: ["SystemKit"], swiftSettings: strict),
        // A module built on the runtime, for tests: heartbeats, served methods, echoing subscriptions.
        .executableTarget(name: "superbot-fixture-module", dependencies: ["SuperBotModule"], swiftSettings: strict),
        .testTarget(
            name: "SuperBotTests",
            dependencies: ["SystemKit", "JSON", "YAML", "Bus", "SuperBotConfig", "Supervision", "RPC", "SuperBotLog", "SuperBotCLI", "SuperBotDaemon"],
            swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "SuperBotTesting", "SystemKit"], swiftSettings: strict),
        .testTarget(
            name: "TradingTests",
            dependencies: [
                "HTTP", "MarketData", "ExchangeSim", "ExchangeConnector", "Trading", "Engines", "SuperBotConfig", "SuperBotTesting", "SystemKit", "JSON",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "SystemKit", "JSON", "RPC", "HTTP", "SuperBotTesting", "ExchangeConnector", "superbot", "superbot-cli", "superbot-fixture", "superbot-fixture-module",
                "exchange-sim", "trading-engine",
            ],
            swiftSettings: strict),
    ]
)
