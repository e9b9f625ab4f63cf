import JSON
import SuperBotConfig
import SystemKit
import YAML

/// `config/trading.yaml`: which symbols trade, each engine's settings (`engine_defaults` merged
/// key by key with `symbols.<SYMBOL>`), the exchange connection, and the offline simulator.
public struct TradingConfig: Equatable, Sendable {
    public struct Strategy: Equatable, Sendable {
        public var name: String
        public var fast: Int
        public var slow: Int
        /// The bars the strategy sees: closed klines of this interval (`1m`, `5m`, `1h` …).
        public var interval: String
        public init(name: String, fast: Int, slow: Int, interval: String = "1m") {
            self.name = name
            self.fast = fast
            self.slow = slow
            self.interval = interval
        }

        /// Binance's kline intervals, in seconds.
        public static let intervals: [String: Int64] = [
            "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14_400, "6h": 21_600,
            "8h": 28_800, "12h": 43_200, "1d": 86_400,
        ]

        public var intervalSeconds: Int64 { Strategy.intervals[interval] ?? 60 }
    }

    public struct Risk: Equatable, Sendable {
        /// Largest position, valued at the current price, in the quote asset.
        public var maxPositionNotional: Double
        public var maxOrderNotional: Double
        /// A day's loss (equity since 00:00 UTC) at which the engine pauses until the next day.
        public var dailyLossLimit: Double
        /// No new entries for this long after a losing trade.
        public var lossCooldown: Double
        /// Exit a position once the price is this fraction below its entry (0 = never): a paused
        /// engine still cuts a loss instead of holding it for the rest of the day.
        public var stopLoss: Double
        /// The taker fee a buy is sized with, so that the fill, the book walk and the fee together
        /// stay within the engine's cash.
        public var feeRate: Double
        public init(
            maxPositionNotional: Double, maxOrderNotional: Double, dailyLossLimit: Double, lossCooldown: Double,
            stopLoss: Double = 0.05, feeRate: Double = 0.001
        ) {
            self.maxPositionNotional = maxPositionNotional
            self.maxOrderNotional = maxOrderNotional
            self.dailyLossLimit = dailyLossLimit
            self.lossCooldown = lossCooldown
            self.stopLoss = stopLoss
            self.feeRate = feeRate
        }
    }

    public struct Recovery: Equatable, Sendable {
        public var maxRestartsPerHour: Int
        public var backoff: Double
        public var maxBackoff: Double
        /// This many errors within a minute count as a spike: the engine is restarted.
        public var errorSpike: Int
        public init(maxRestartsPerHour: Int, backoff: Double, maxBackoff: Double, errorSpike: Int) {
            self.maxRestartsPerHour = maxRestartsPerHour
            self.backoff = backoff
            self.maxBackoff = maxBackoff
            self.errorSpike = errorSpike
        }
    }

    /// How often the engine checks its books against the exchange account, and what a
    /// difference does: `pause` stops new entries until the books agree again, `adopt_exchange`
    /// books what the exchange shows (its missing trades as fills, then any remaining position
    /// difference as an adjustment at the last price), `ignore` only reports.
    public struct Reconcile: Equatable, Sendable {
        public var interval: Double
        public var onMismatch: String
        public init(interval: Double = 60, onMismatch: String = "pause") {
            self.interval = interval
            self.onMismatch = onMismatch
        }
    }

    public struct Engine: Equatable, Sendable {
        public var symbol: String
        public var baseAsset: String
        public var quoteAsset: String
        public var enabled: Bool
        public var cycleInterval: Double
        public var heartbeatTimeout: Double
        /// The engine's paper sub-account: its share of the account, in the quote asset.
        public var initialCash: Double
        /// Quote amount per entry order.
        public var orderNotional: Double
        public var strategy: Strategy
        public var risk: Risk
        public var recovery: Recovery
        public var reconcile: Reconcile
        public init(
            symbol: String, baseAsset: String, quoteAsset: String, enabled: Bool, cycleInterval: Double,
            heartbeatTimeout: Double,
            initialCash: Double, orderNotional: Double, strategy: Strategy, risk: Risk, recovery: Recovery,
            reconcile: Reconcile = Reconcile()
        ) {
            self.reconcile = reconcile
            self.symbol = symbol
            self.baseAsset = baseAsset
            self.quoteAsset = quoteAsset
            self.enabled = enabled
            self.cycleInterval = cycleInterval
            self.heartbeatTimeout = heartbeatTimeout
            self.initialCash = initialCash
            self.orderNotional = orderNotional
            self.strategy = strategy
            self.risk = risk
            self.recovery = recovery
        }
    }

    public struct Exchange: Equatable, Sendable {
        public var baseURL: String
        public var apiKey: String?
        public var timeout: Double
        public var minConnections: Int
        public var maxConnections: Int
        public var connectionTimeout: Double
        public var idleTimeout: Double
        public var maxAttempts: Int
        public var baseDelay: Double
        public var maxDelay: Double
        public var tickerTTL: Double
        public var orderBookTTL: Double
        public var klinesTTL: Double
        /// `cache.shared`: market data through the daemon's shared cache as well, so modules
        /// fetch once between them.
        public var sharedCache = false
    }

    public struct Market: Equatable, Sendable {
        public var price: Double?
        /// Annualised volatility of the simulated path.
        public var volatility: Double?
        public var tickSize: Double?
        public var stepSize: Double?
    }

    public struct Faults: Equatable, Sendable {
        public var latencyMs: Double = 0
        public var latencyJitterMs: Double = 0
        public var errorRate: Double = 0
        public var dropRate: Double = 0
        /// The order is executed but the reply is lost (the connection closes): what client order ids are for.
        public var loseReplyRate: Double = 0
        public var garbageRate: Double = 0
        public init() {}
    }

    public struct Simulator: Equatable, Sendable {
        public var host: String
        public var port: Int
        public var seed: UInt64
        /// Simulated seconds per real second.
        public var speed: Double
        public var takerFee: Double
        public var makerFee: Double
        /// `quote`: every fee in the quote asset. `received`: in the asset the trade delivers, as
        /// Binance charges without BNB (a buy's fee comes out of the base asset bought).
        public var feeAsset: String
        public var balances: [String: Double]
        public var weightLimit: Int
        public var rateWindow: Double
        public var historyBars: Int
        public var faults: Faults
        public var replay: [String: String]
        public var markets: [String: Market]
        /// Where the simulator keeps its account (balances, orders, trades) across restarts;
        /// nil keeps it in memory only.
        public var stateFile: String?
    }

    public var file: String
    public var baseDirectory: String
    public var mode: String
    public var dataDirectory: String
    public var engines: [Engine]
    public var exchange: Exchange
    public var simulator: Simulator
    public var document: JSON

    public var symbols: [String] { engines.map(\.symbol) }
    public func engine(_ symbol: String) -> Engine? { engines.first { $0.symbol == symbol } }
    public func get(_ path: String) -> JSON? {
        ConfigDocument.lookup(document, path) ?? ConfigDocument.lookup(document, "trading." + path)
    }

    static let engineKeys = [
        "enabled", "cycle_interval", "heartbeat_timeout", "initial_cash", "order_notional", "strategy", "risk",
        "reconcile",
        "recovery",
    ]
    public static let quoteAssets = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"]

    /// Loads `trading.yaml` from a config directory (or the file itself).
}
