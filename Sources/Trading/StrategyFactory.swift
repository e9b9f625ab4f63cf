import TradingSettings

/// The strategy a configuration names, built the same way for live engines and backtests.
public enum StrategyFactory {
    public static func make(_ settings: TradingConfig.Strategy) -> any Strategy {
        // `sma_crossover` is the one name the configuration admits so far.
        SMACrossover(fast: settings.fast, slow: settings.slow)
    }
}
