import ExchangeConnector
import ExchangeModel
import Glibc
import MarketData
import SuperBotConfig
import Synchronization
import SystemKit
import TradingSettings

func temporaryDirectory() -> String {
    var template = Array("/tmp/sbtrade-XXXXXX".utf8CString)
    return String(cString: mkdtemp(&template)!)
}

func removeTree(_ path: String) {
    for name in FileSystem.listDirectory(path) {
        let child = path + "/" + name
        var st = stat()
        if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
    }
    rmdir(path)
}

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

/// Prices that make a 2/4 SMA crossover buy, then sell, then buy again.
