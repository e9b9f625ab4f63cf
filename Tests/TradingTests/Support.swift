import TradingSettings

/// The engine settings the trading tests start from (a fast SMA, quick recovery, no cooldown).
func engineSettings(_ symbol: String = "BTCUSDT", fast: Int = 2, slow: Int = 4, cycle: Double = 1)
    -> TradingConfig.Engine
{
    TradingConfig.Engine(
        symbol: symbol, baseAsset: String(symbol.dropLast(4)), quoteAsset: "USDT", enabled: true, cycleInterval: cycle,
        heartbeatTimeout: 1,
        initialCash: 10_000, orderNotional: 500, strategy: .init(name: "sma_crossover", fast: fast, slow: slow),
        risk: .init(maxPositionNotional: 2000, maxOrderNotional: 1000, dailyLossLimit: 500, lossCooldown: 0),
        recovery: .init(maxRestartsPerHour: 5, backoff: 0.05, maxBackoff: 1, errorSpike: 3))
}
