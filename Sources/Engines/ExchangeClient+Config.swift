import ExchangeConnector
import ExchangeModel
import SuperBotConfig
import TradingSettings

extension ExchangeClient.Settings {
    /// The connector as `trading.exchange` describes it.
    public init(_ config: TradingConfig.Exchange) {
        self.init(baseURL: config.baseURL)
        apiKey = config.apiKey
        timeout = config.timeout
        minConnections = config.minConnections
        maxConnections = config.maxConnections
        connectTimeout = config.connectionTimeout
        idleTimeout = config.idleTimeout
        maxAttempts = config.maxAttempts
        baseDelay = config.baseDelay
        maxDelay = config.maxDelay
        tickerTTL = config.tickerTTL
        orderBookTTL = config.orderBookTTL
        klinesTTL = config.klinesTTL
    }

}
