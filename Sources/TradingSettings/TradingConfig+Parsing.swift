import JSON
import SuperBotConfig
import SystemKit
import YAML

/// Reading and validating `trading.yaml` (every key checked, errors at file:line:column).
extension TradingConfig {
    public static func load(path: String) throws -> TradingConfig {
        let (file, root) = try ConfigDocument.load(path, defaultName: "trading.yaml")
        return try parse(root, file: file, baseDirectory: ConfigDocument.baseDirectory(of: file))
    }

    public static func parse(_ text: String, file: String, baseDirectory: String) throws -> TradingConfig {
        try parse(try ConfigDocument.parse(text, file: file), file: file, baseDirectory: baseDirectory)
    }

    static func parse(_ root: YAMLNode, file: String, baseDirectory: String) throws -> TradingConfig {
        let top = try MappingReader(root, file: file, path: "(top level)", allowed: ["trading"])
        guard let tradingNode = top.value("trading") else {
            throw ConfigError(file, root, "missing the top-level 'trading:' mapping")
        }
        let t = try MappingReader(
            tradingNode, file: file, path: "trading",
            allowed: ["mode", "data_dir", "symbols", "engine_defaults", "exchange", "simulator"])
        let mode = try t.oneOf("mode", ["paper"], default: "paper")
        let defaults =
            t.value("engine_defaults") ?? YAMLNode(.mapping([]), line: tradingNode.line, column: tradingNode.column)
        _ = try MappingReader(defaults, file: file, path: "trading.engine_defaults", allowed: engineKeys)

        var engines: [Engine] = []
        guard let symbolsNode = t.value("symbols") else {
            throw t.error(
                "symbols", "is required: a list of symbols like [BTCUSDT, ETHUSDT], or a mapping of symbol → overrides")
        }
        var entries: [(YAMLNode, YAMLNode?)] = []
        if let items = symbolsNode.sequence {
            entries = items.map { ($0, nil) }
        } else if let pairs = symbolsNode.mapping {
            entries = pairs.map { ($0.key, $0.value) }
        } else {
            throw t.error("symbols", "must be a list of symbols or a mapping of symbol → overrides")
        }
        for (keyNode, override) in entries {
            guard let symbol = keyNode.scalarText else {
                throw ConfigError(file, keyNode, "a symbol must be a plain string like BTCUSDT")
            }
            guard let (base, quote) = splitSymbol(symbol) else {
                throw ConfigError(
                    file, keyNode,
                    "'\(symbol)' is not a spot symbol: use upper-case letters and digits ending in a quote asset (\(quoteAssets.joined(separator: ", "))), e.g. BTCUSDT"
                )
            }
            if engines.contains(where: { $0.symbol == symbol }) {
                throw ConfigError(file, keyNode, "symbol '\(symbol)' is listed twice")
            }
            let merged = override.map { merge(defaults, $0) } ?? defaults
            engines.append(try parseEngine(symbol, base: base, quote: quote, merged, file: file))
        }
        guard !engines.isEmpty else { throw t.error("symbols", "lists no symbols") }

        let e = try t.child("exchange", allowed: ["base_url", "api_key", "timeout", "pool", "retry", "cache"])
        let baseURL = try e.string("base_url", default: "http://127.0.0.1:8081")
        guard baseURL.hasPrefix("http://") else {
            throw e.error(
                "base_url",
                "must be an http:// URL (TLS is not built in; put a local TLS proxy in front of a real exchange), got '\(baseURL)'"
            )
        }
        let pool = try e.child(
            "pool", allowed: ["min_connections", "max_connections", "connection_timeout", "idle_timeout"])
        let retry = try e.child("retry", allowed: ["max_attempts", "base_delay", "max_delay"])
        let cache = try e.child("cache", allowed: ["ticker", "order_book", "klines", "shared"])
        var exchange = Exchange(
            baseURL: baseURL, apiKey: try e.optionalString("api_key"),
            timeout: try e.seconds("timeout", default: 5, minimum: 0.01),
            minConnections: try pool.int("min_connections", default: 2, range: 0...1000),
            maxConnections: try pool.int("max_connections", default: 10, range: 1...1000),
            connectionTimeout: try pool.seconds("connection_timeout", default: 5, minimum: 0.01),
            idleTimeout: try pool.seconds("idle_timeout", default: 300, minimum: 0.01),
            maxAttempts: try retry.int("max_attempts", default: 4, range: 1...20),
            baseDelay: try retry.seconds("base_delay", default: 0.1),
            maxDelay: try retry.seconds("max_delay", default: 5),
            tickerTTL: try cache.seconds("ticker", default: 5),
            orderBookTTL: try cache.seconds("order_book", default: 1),
            klinesTTL: try cache.seconds("klines", default: 1))
        exchange.sharedCache = try cache.bool("shared", default: false)
        if exchange.minConnections > exchange.maxConnections {
            throw pool.error(
                "min_connections", "(\(exchange.minConnections)) is above max_connections (\(exchange.maxConnections))")
        }

        let s = try t.child(
            "simulator",
            allowed: [
                "host", "port", "seed", "speed", "taker_fee", "maker_fee", "fee_asset", "balances", "weight_limit",
                "rate_window",
                "history_bars",
                "faults", "replay", "markets", "state_file",
            ])
        let f = try s.child(
            "faults",
            allowed: ["latency_ms", "latency_jitter_ms", "error_rate", "drop_rate", "lose_reply_rate", "garbage_rate"])
        var faults = Faults()
        faults.latencyMs = try f.number("latency_ms", default: 0)
        faults.latencyJitterMs = try f.number("latency_jitter_ms", default: 0)
        faults.errorRate = try rate(f, "error_rate")
        faults.dropRate = try rate(f, "drop_rate")
        faults.loseReplyRate = try rate(f, "lose_reply_rate")
        faults.garbageRate = try rate(f, "garbage_rate")
        var balances: [String: Double] = [:]
        for (asset, text) in try s.stringMap("balances") {
            guard let amount = Double(text), amount.isFinite, amount >= 0 else {
                throw s.error("balances", "entry '\(asset)' must be a non-negative number, got '\(text)'")
            }
            balances[asset] = amount
        }
        if balances.isEmpty { balances = ["USDT": 1_000_000] }
        var markets: [String: Market] = [:]
        if let node = s.value("markets") {
            guard let pairs = node.mapping else {
                throw s.error("markets", "must be a mapping of symbol → {price, volatility, tick_size, step_size}")
            }
            for pair in pairs {
                let name = pair.key.scalarText ?? ""
                let m = try MappingReader(
                    pair.value, file: file, path: "trading.simulator.markets.\(name)",
                    allowed: ["price", "volatility", "tick_size", "step_size"])
                markets[name] = Market(
                    price: m.has("price") ? try m.number("price", default: 1, minimum: 1e-9) : nil,
                    volatility: m.has("volatility") ? try m.number("volatility", default: 0.5) : nil,
                    tickSize: m.has("tick_size") ? try m.number("tick_size", default: 0.01, minimum: 1e-12) : nil,
                    stepSize: m.has("step_size") ? try m.number("step_size", default: 0.001, minimum: 1e-12) : nil)
            }
        }
        let dataDirectory = FileSystem.resolve(try t.string("data_dir", default: "data"), against: baseDirectory)
        let stateFile = try s.string("state_file", default: "exchange-sim.jsonl")
        let simulator = Simulator(
            host: try s.string("host", default: "127.0.0.1"),
            port: try s.int("port", default: 8081, range: 0...65535),
            seed: UInt64(try s.int("seed", default: 42)),
            speed: try s.number("speed", default: 1, minimum: 0.001),
            takerFee: try s.number("taker_fee", default: 0.001),
            makerFee: try s.number("maker_fee", default: 0.001),
            feeAsset: try s.oneOf("fee_asset", ["quote", "received"], default: "quote"),
            balances: balances,
            weightLimit: try s.int("weight_limit", default: 6000, range: 1...10_000_000),
            rateWindow: try s.seconds("rate_window", default: 60, minimum: 0.1),
            historyBars: try s.int("history_bars", default: 500, range: 1...5000),
            faults: faults,
            replay: try s.stringMap("replay").mapValues { FileSystem.resolve($0, against: baseDirectory) },
            markets: markets,
            stateFile: stateFile.isEmpty ? nil : FileSystem.resolve(stateFile, against: dataDirectory))
        guard simulator.host == "127.0.0.1" || simulator.host == "localhost" else {
            throw s.error("host", "must be 127.0.0.1: the simulator serves loopback only")
        }
        return TradingConfig(
            file: file, baseDirectory: baseDirectory, mode: mode,
            dataDirectory: dataDirectory, engines: engines, exchange: exchange, simulator: simulator,
            document: ConfigDocument.json(root))
    }

    /// `BTCUSDT` → (`BTC`, `USDT`), or nil when it is not a plausible spot symbol.
    public static func splitSymbol(_ symbol: String) -> (String, String)? {
        guard (5...20).contains(symbol.count), symbol.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) })
        else { return nil }
        for quote in quoteAssets where symbol.hasSuffix(quote) && symbol.count > quote.count + 1 {
            return (String(symbol.dropLast(quote.count)), quote)
        }
        return nil
    }

    private static func rate(_ r: MappingReader, _ key: String) throws -> Double {
        let v = try r.number(key, default: 0)
        guard v <= 1 else { throw r.error(key, "is a probability between 0 and 1, got \(v)") }
        return v
    }

    static func parseEngine(_ symbol: String, base: String, quote: String, _ node: YAMLNode, file: String) throws
        -> Engine
    {
        let path = "trading.symbols.\(symbol)"
        let m = try MappingReader(node, file: file, path: path, allowed: engineKeys)
        let st = try m.child("strategy", allowed: ["name", "fast", "slow", "interval"])
        let intervalNames = Strategy.intervals.sorted { $0.value < $1.value }.map(\.key)
        let strategy = Strategy(
            name: try st.oneOf("name", ["sma_crossover"], default: "sma_crossover"),
            fast: try st.int("fast", default: 5, range: 1...10_000),
            slow: try st.int("slow", default: 20, range: 2...10_000),
            interval: try st.oneOf("interval", intervalNames, default: "1m"))
        guard strategy.fast < strategy.slow else {
            throw st.error("fast", "(\(strategy.fast)) must be below slow (\(strategy.slow))")
        }
        let r = try m.child(
            "risk",
            allowed: [
                "max_position_notional", "max_order_notional", "daily_loss_limit", "loss_cooldown", "stop_loss",
                "fee_rate",
            ])
        let risk = Risk(
            maxPositionNotional: try r.number("max_position_notional", default: 2000),
            maxOrderNotional: try r.number("max_order_notional", default: 1000),
            dailyLossLimit: try r.number("daily_loss_limit", default: 500),
            lossCooldown: try r.seconds("loss_cooldown", default: 30),
            stopLoss: try r.number("stop_loss", default: 0.05),
            feeRate: try r.number("fee_rate", default: 0.001))
        guard risk.feeRate < 0.1 else {
            throw r.error("fee_rate", "is a fraction of the order value (0.001 = 0.1 %) and must be below 0.1")
        }
        guard risk.stopLoss < 1 else {
            throw r.error("stop_loss", "is a fraction below the entry price (0.05 = 5 %) and must be below 1")
        }
        let rc = try m.child("recovery", allowed: ["max_restarts_per_hour", "backoff", "max_backoff", "error_spike"])
        let recovery = Recovery(
            maxRestartsPerHour: try rc.int("max_restarts_per_hour", default: 5, range: 0...10_000),
            backoff: try rc.seconds("backoff", default: 0.2),
            maxBackoff: try rc.seconds("max_backoff", default: 60),
            errorSpike: try rc.int("error_spike", default: 10, range: 1...1_000_000))
        let rec = try m.child("reconcile", allowed: ["interval", "on_mismatch"])
        let reconcile = Reconcile(
            interval: try rec.seconds("interval", default: 60, minimum: 1),
            onMismatch: try rec.oneOf("on_mismatch", ["pause", "adopt_exchange", "ignore"], default: "pause"))
        let engine = Engine(
            symbol: symbol, baseAsset: base, quoteAsset: quote,
            enabled: try m.bool("enabled", default: true),
            cycleInterval: try m.seconds("cycle_interval", default: 1, minimum: 0.001),
            heartbeatTimeout: try m.seconds("heartbeat_timeout", default: 10, minimum: 0.01),
            initialCash: try m.number("initial_cash", default: 10_000),
            orderNotional: try m.number("order_notional", default: 500, minimum: 0.000001),
            strategy: strategy, risk: risk, recovery: recovery, reconcile: reconcile)
        if engine.orderNotional > risk.maxOrderNotional {
            throw m.error(
                "order_notional",
                "(\(engine.orderNotional)) is above risk.max_order_notional (\(risk.maxOrderNotional)); no order could pass the risk check"
            )
        }
        return engine
    }

    /// `base` with `override` laid over it, mapping by mapping; positions come from where each value was written.
    static func merge(_ base: YAMLNode, _ override: YAMLNode) -> YAMLNode {
        guard let basePairs = base.mapping, let overPairs = override.mapping else {
            return override.scalar == .null ? base : override
        }
        var pairs = basePairs
        for pair in overPairs {
            if let i = pairs.firstIndex(where: { $0.key.scalarText == pair.key.scalarText }) {
                pairs[i].value = merge(pairs[i].value, pair.value)
            } else {
                pairs.append(pair)
            }
        }
        return YAMLNode(.mapping(pairs), line: override.line, column: override.column)
    }
}
