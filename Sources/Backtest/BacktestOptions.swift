import SystemKit
import TradingSettings

/// The `backtest` command line, checked before anything runs (usage errors exit 2).
public struct BacktestOptions: Sendable {
    public enum Source: Sendable, Equatable {
        case file(String)
        case synthetic(symbol: String, bars: Int, seed: UInt64)
        /// Klines from a Binance-shaped API (exchange-sim by default).
        case exchange(url: String, symbol: String, bars: Int)
    }

    public var source: Source?
    public var strategy = TradingConfig.Strategy(name: "sma_crossover", fast: 10, slow: 20, interval: "1m")
    public var model = BrokerModel()
    public var skipBadRows = false
    public var maxGap = 7.0
    public var reportDirectory = "reports"
    public var runId: String?
    public var writeReport = true
    public var json = false
    public var quiet = false
    public var grid: ParameterGrid?
    public var rank = "SQN"
    public var walkForward: (train: Int, test: Int)?
    public var repeatCount = 1
    /// `--export-bars FILE`: the bars loaded, written as CSV (to share synthetic data with other tools).
    public var exportBars: String?
    public var help = false
    /// `--strategy default`: the strategy (and interval) trading.yaml gives the symbol's engine.
    public var liveStrategy = false
    public var configPath = Environment.get("SUPERBOT_CONFIG_DIR") ?? "config"
    public var fastGiven = false
    public var slowGiven = false

    public static let strategies = ["sma_crossover"]
    /// Short names for `--rank`.
    public static let rankAliases: [String: String] = [
        "sharpe": "Sharpe Ratio", "sortino": "Sortino Ratio", "calmar": "Calmar Ratio", "return": "Return [%]",
        "sqn": "SQN", "equity": "Equity Final [$]", "win_rate": "Win Rate [%]", "profit_factor": "Profit Factor",
        "expectancy": "Expectancy [%]", "cagr": "CAGR [%]", "drawdown": "Max. Drawdown [%]",
    ]

    public init() {}

    public init(arguments: [String]) throws(UsageError) {
        var args = arguments[...]
        var symbol: String?
        var bars: Int?
        var seed: UInt64 = 1
        var exchangeURL: String?
        var synthetic = false
        var file: String?
        var sizing = "equity"
        var fraction = BrokerModel.allOfIt
        var notional: Double?
        func value(_ flag: String) throws(UsageError) -> String {
            guard let v = args.popFirst(), !v.hasPrefix("--") || Double(v) != nil else {
                throw UsageError("\(flag) needs a value")
            }
            return v
        }
        func number(_ flag: String) throws(UsageError) -> Double {
            let v = try value(flag)
            guard let x = Double(v), x.isFinite else { throw UsageError("\(flag) takes a number, got '\(v)'") }
            return x
        }
        func integer(_ flag: String, min: Int = 1) throws(UsageError) -> Int {
            let v = try value(flag)
            guard let x = Int(v), x >= min else { throw UsageError("\(flag) takes an integer ≥ \(min), got '\(v)'") }
            return x
        }
        while let arg = args.popFirst() {
            // `--flag=value` is taken as `--flag value`.
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "="), arg != "--grid", arg != "--walk-forward" {
                args.insert(String(arg[arg.index(after: eq)...]), at: args.startIndex)
                args.insert(String(arg[..<eq]), at: args.startIndex)
                continue
            }
            switch arg {
            // The last data source given wins, so a run's arguments override the module's configured ones.
            case "--data":
                file = try value(arg)
                (synthetic, exchangeURL) = (false, nil)
            case "--synthetic":
                symbol = try value(arg)
                (synthetic, exchangeURL, file) = (true, nil, nil)
            case "--exchange":
                exchangeURL = args.first.map { $0.hasPrefix("http") } == true ? args.popFirst()! : ""
                (synthetic, file) = (false, nil)
            case "--symbol": symbol = try value(arg)
            case "--bars": bars = try integer(arg)
            case "--seed":
                let v = try value(arg)
                guard let s = UInt64(v) else { throw UsageError("--seed takes a non-negative integer, got '\(v)'") }
                seed = s
            case "--interval":
                let v = try value(arg)
                guard TradingConfig.Strategy.intervals[v] != nil else {
                    throw UsageError(
                        "--interval '\(v)' is not one of \(TradingConfig.Strategy.intervals.keys.sorted().joined(separator: ", "))"
                    )
                }
                strategy.interval = v
            case "--strategy":
                let v = try value(arg)
                guard BacktestOptions.strategies.contains(v) || v == "default" else {
                    throw UsageError(
                        "unknown strategy '\(v)'; known: \(BacktestOptions.strategies.joined(separator: ", ")), or default (trading.yaml's)"
                    )
                }
                liveStrategy = v == "default"
                if !liveStrategy { strategy.name = v }
            case "--config": configPath = try value(arg)
            case "--fast":
                strategy.fast = try integer(arg)
                fastGiven = true
            case "--slow":
                strategy.slow = try integer(arg)
                slowGiven = true
            case "--cash": model.cash = try number(arg)
            case "--commission": model.commission = try number(arg)
            case "--fixed-fee": model.fixedFee = try number(arg)
            case "--slippage-bps": model.slippageBps = try number(arg)
            case "--sizing":
                sizing = try value(arg)
                guard sizing == "equity" || sizing == "notional" else {
                    throw UsageError("--sizing is equity or notional, got '\(sizing)'")
                }
            case "--fraction": fraction = try number(arg)
            case "--order-notional":
                notional = try number(arg)
                sizing = "notional"
            case "--lot-size": model.lotSize = try number(arg)
            case "--long-only": model.allowShort = false
            case "--allow-short": model.allowShort = true
            case "--fill":
                let v = try value(arg)
                guard let fill = BrokerModel.Fill(rawValue: v) else {
                    throw UsageError("--fill is next-open or close, got '\(v)'")
                }
                model.fill = fill
            case "--close-at-end": model.closeAtEnd = true
            case "--skip-bad-rows": skipBadRows = true
            case "--max-gap":
                maxGap = try number(arg)
                guard maxGap >= 0 else {
                    throw UsageError("--max-gap takes a number of bar intervals ≥ 0 (0: any gap)")
                }
            case "--report-dir": reportDirectory = try value(arg)
            case "--run-id":
                let v = try value(arg)
                guard !v.isEmpty, v.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !v.hasPrefix(".")
                else { throw UsageError("--run-id takes letters, digits, '-', '_' and '.', got '\(v)'") }
                runId = v
            case "--no-report": writeReport = false
            case "--json": json = true
            case "--quiet", "-q": quiet = true
            case "--grid":
                var specs: [String] = []
                while let next = args.first, !next.hasPrefix("--"), next.contains("=") {
                    specs.append(args.popFirst()!)
                }
                grid = try ParameterGrid(parsing: specs)
            case "--rank":
                let v = try value(arg)
                rank = BacktestOptions.rankAliases[v.lowercased()] ?? v
            case "--walk-forward":
                var train: Int?
                var test: Int?
                while let next = args.first, !next.hasPrefix("--"), next.contains("=") {
                    let kv = args.popFirst()!.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, let n = Int(kv[1]), n >= 1 else {
                        throw UsageError(
                            "--walk-forward takes train=N test=M (bars), got '\(kv.joined(separator: "="))'")
                    }
                    if kv[0] == "train" {
                        train = n
                    } else if kv[0] == "test" {
                        test = n
                    } else {
                        throw UsageError("--walk-forward knows train= and test=, got '\(kv[0])='")
                    }
                }
                guard let train, let test else { throw UsageError("--walk-forward needs train=N test=M (bars)") }
                walkForward = (train, test)
            case "--repeat": repeatCount = try integer(arg)
            case "--export-bars": exportBars = try value(arg)
            case "-h", "--help": help = true
            default:
                throw UsageError("unknown option '\(arg)'; see backtest --help")
            }
        }
        if help { return }
        if let file {
            source = .file(file)
        } else if synthetic {
            source = .synthetic(symbol: symbol!, bars: bars ?? 10_000, seed: seed)
        } else if let url = exchangeURL {
            guard let symbol else { throw UsageError("--exchange needs --symbol (e.g. BTCUSDT)") }
            let n = bars ?? 999
            guard n <= 999 else {
                throw UsageError("--exchange fetches at most 999 closed bars (one klines page); got --bars \(n)")
            }
            source = .exchange(url: url, symbol: symbol, bars: n)
        }
        guard source != nil else {
            throw UsageError("no data: give --data FILE, --synthetic SYMBOL or --exchange --symbol SYMBOL")
        }
        model.sizing = sizing == "notional" ? .notional(notional ?? 500) : .equity(fraction: fraction)
        if let problem = model.problem { throw UsageError(problem) }
        if grid == nil, !liveStrategy {
            guard strategy.fast >= 1, strategy.slow > strategy.fast else {
                throw UsageError("sma_crossover needs 1 ≤ --fast < --slow (got \(strategy.fast), \(strategy.slow))")
            }
        }
        if walkForward != nil, grid == nil { throw UsageError("--walk-forward optimises a --grid; give one") }
        guard Statistics.names.contains(rank) else {
            throw UsageError(
                "--rank '\(rank)' is not a statistic; use one of \(BacktestOptions.rankAliases.keys.sorted().joined(separator: ", ")) or a full name such as 'Sharpe Ratio'"
            )
        }
    }

    /// Whether trading.yaml is needed: `--strategy default`, or `--exchange` without a URL.
    public var needsConfig: Bool {
        if liveStrategy { return true }
        if case .exchange(let url, _, _) = source { return url.isEmpty }
        return false
    }

    /// Applies trading.yaml where the command line asks for it: `--strategy default` takes the
    /// strategy of the symbol's engine (or the first engine's), `--exchange` without a URL its
    /// `exchange.base_url`. Without a config the simulator's default address is used.
    public mutating func resolve(_ config: TradingConfig?) throws(UsageError) {
        if case .exchange(let url, let symbol, let bars) = source, url.isEmpty {
            source = .exchange(url: config?.exchange.baseURL ?? "http://127.0.0.1:8081", symbol: symbol, bars: bars)
        }
        guard liveStrategy else { return }
        guard let config else {
            throw UsageError("--strategy default reads trading.yaml; --config DIR names its directory")
        }
        var symbol: String?
        switch source {
        case .synthetic(let s, _, _), .exchange(_, let s, _): symbol = s
        default: symbol = nil
        }
        guard let engine = symbol.flatMap(config.engine) ?? config.engines.first else {
            throw UsageError("--strategy default: \(config.file) has no engines")
        }
        var live = engine.strategy
        if fastGiven { live.fast = strategy.fast }
        if slowGiven { live.slow = strategy.slow }
        strategy = live
        guard grid != nil || (strategy.fast >= 1 && strategy.slow > strategy.fast) else {
            throw UsageError("sma_crossover needs 1 ≤ fast < slow (got \(strategy.fast), \(strategy.slow))")
        }
    }

    public static let usage = """
        usage: backtest (--data FILE | --synthetic SYMBOL [--bars N] [--seed S] | --exchange [URL] --symbol SYMBOL [--bars N])
                        [--strategy sma_crossover] [--fast N] [--slow N] [--interval 1m]
                        [--cash X] [--commission RATE] [--fixed-fee X] [--slippage-bps N]
                        [--sizing equity|notional] [--fraction F] [--order-notional X] [--lot-size X]
                        [--long-only | --allow-short] [--fill next-open|close] [--close-at-end]
                        [--skip-bad-rows] [--max-gap N] [--report-dir DIR] [--run-id ID] [--no-report] [--json]
                        [--grid fast=FROM:TO:STEP slow=FROM:TO:STEP] [--rank STAT] [--walk-forward train=N test=M]

        Replays OHLCV bars through the strategy the live engines run, with a broker model, and
        prints backtesting.py's statistics; writes DIR/<run-id>/report.json and report.html.

          --data FILE          OHLCV CSV (header optional, Binance klines, epoch s/ms/µs or ISO 8601 times)
          --synthetic SYMBOL   bars of the simulator's seeded price model (--bars, default 10000; --seed, default 1)
          --exchange [URL]     closed klines from a Binance-shaped API (trading.yaml's exchange.base_url, else
                               http://127.0.0.1:8081: exchange-sim); --symbol S, --bars N ≤ 999 (default)
          --interval I         bar length for --synthetic and --exchange (default 1m)
          --strategy default   the strategy trading.yaml gives the symbol's engine (--config DIR, default config)
          --fast/--slow N      sma_crossover windows (default 10, 20)
          --cash X             starting cash (default 10000)
          --commission RATE    fee rate on notional at entry and at exit (0.002 = 0.2 %; default 0)
          --fixed-fee X        fee per fill in cash units (default 0)
          --slippage-bps N     each fill N basis points worse (default 0)
          --sizing equity      a fraction of the cash per entry (--fraction F, default 1 − 2⁻⁵² as backtesting.py)
          --sizing notional    a fixed amount per entry, as live (--order-notional X, default 500)
          --lot-size X         quantities are multiples of X (default 0.00001; 1 for shares)
          --long-only          a sell signal only closes the long (default, as live spot trading)
          --allow-short        a sell signal also opens a short (reversal)
          --fill next-open     fill at the next bar's open (default) | close: at the signal bar's close
          --close-at-end       close a position still open at the last bar's close (reported as such)
          --skip-bad-rows      count and report bad CSV rows and gaps instead of failing on them
          --max-gap N          a step over N median bar intervals is a gap (default 7; 0 accepts any)
          --grid NAME=A:B:S…   sweep every combination on all cores, ranked by --rank STAT (default SQN, as
                               backtesting.py's optimize; sharpe, return, sortino, calmar … or a full name)
          --walk-forward train=N test=M   optimise the grid on N bars, trade the next M, step by M
          --json               print report.json to stdout (no progress bar)
          --export-bars FILE   also write the bars as CSV (timestamp in ms, open, high, low, close, volume)
          --repeat N           run N times and print the median time of one run (run and statistics)
          --run-id ID          the report's directory name (default: time, strategy, parameters)

        Exit status: 0 done, 1 failed, 2 usage or bad data.
        """
}
