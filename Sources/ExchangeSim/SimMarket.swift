import MarketData

/// One symbol's market in the simulator: its price path (generated or replayed), completed
/// one-minute bars, and the order book derived from the last price.
struct SimMarket {
    let symbol: String
    let baseAsset: String
    let quoteAsset: String
    let tickSize: Double
    let stepSize: Double
    let minNotional: Double
    private var path: SyntheticMarket?
    private let replay: [Bar]
    private var replayIndex = 0
    /// Completed one-minute bars, oldest first (bounded).
    private(set) var bars: [Bar] = []
    private(set) var current: Bar
    private(set) var lastPrice: Double
    /// Simulated seconds since the epoch that the path has reached.
    private(set) var simSecond: Int64
    private let maxBars: Int
    var updateID: Int64 = 1

    static let barSeconds: Int64 = 60

    init(
        symbol: String, base: String, quote: String, price: Double, volatility: Double, tickSize: Double,
        stepSize: Double,
        seed: UInt64, startSecond: Int64, historyBars: Int, replay: [Bar]
    ) {
        self.symbol = symbol
        baseAsset = base
        quoteAsset = quote
        self.tickSize = tickSize
        self.stepSize = stepSize
        minNotional = 5
        maxBars = max(historyBars, 1000)
        self.replay = replay
        if replay.isEmpty {
            path = SyntheticMarket(
                seed: seed, symbol: symbol, price: price, volatility: volatility, tickSize: tickSize, stepSize: stepSize
            )
            let first = startSecond - Int64(historyBars) * SimMarket.barSeconds
            let minute = first - first % SimMarket.barSeconds
            simSecond = minute
            lastPrice = DecimalText.round(price, step: tickSize)
            current = Bar(time: minute * 1000, price: lastPrice)
            advance(to: startSecond)
        } else {
            // Replayed bars are laid end to end ending now; the rest of the file plays forward.
            let shown = min(historyBars, replay.count - 1)
            let minute = startSecond - startSecond % SimMarket.barSeconds
            for (i, bar) in replay[0..<shown].enumerated() {
                var b = bar
                b.time = (minute - Int64(shown - i) * SimMarket.barSeconds) * 1000
                bars.append(b)
            }
            replayIndex = shown
            var b = replay[shown]
            b.time = minute * 1000
            current = b
            lastPrice = b.close
            simSecond = startSecond
        }
    }

    /// Moves the path forward to `second`, one simulated second per step.
    mutating func advance(to second: Int64) {
        guard second > simSecond else { return }
        if path == nil {
            advanceReplay(to: second)
            return
        }
        while simSecond < second {
            simSecond += 1
            lastPrice = path!.nextSecond()
            let minute = simSecond - simSecond % SimMarket.barSeconds
            if minute * 1000 != current.time {
                bars.append(current)
                current = Bar(time: minute * 1000, price: lastPrice)
            } else {
                current.add(price: lastPrice, volume: 0)
            }
            current.volume += path!.secondVolume
        }
        trim()
        updateID += 1
    }

    private mutating func advanceReplay(to second: Int64) {
        while simSecond < second {
            simSecond += 1
            guard simSecond % SimMarket.barSeconds == 0, replayIndex + 1 < replay.count else { continue }
            bars.append(current)
            replayIndex += 1
            current = replay[replayIndex]
            current.time = simSecond * 1000
            lastPrice = current.close
        }
        trim()
        updateID += 1
    }

    private mutating func trim() {
        if bars.count > maxBars + 200 { bars.removeFirst(bars.count - maxBars) }
    }

    // MARK: Order book

    /// Half the spread, relative to the price (1 basis point wide in total).
    static let halfSpread = 0.00005
    /// Distance between book levels, relative to the price.
    static let levelStep = 0.0001
    /// Quote value resting at the best level; deeper levels hold more.
    static let levelNotional = 25_000.0

    var bestBid: Double { level(side: .bid, 0).price }
    var bestAsk: Double { level(side: .ask, 0).price }

    enum BookSide { case bid, ask }

    /// Level `i` of one side of the book: price and quantity.
    func level(side: BookSide, _ i: Int) -> (price: Double, qty: Double) {
        let offset = SimMarket.halfSpread + Double(i) * SimMarket.levelStep
        let raw = side == .ask ? lastPrice * (1 + offset) : lastPrice * (1 - offset)
        var price = side == .ask ? (raw / tickSize).rounded(.up) * tickSize : (raw / tickSize).rounded(.down) * tickSize
        if side == .bid { price = max(price, tickSize) }
        let notional = SimMarket.levelNotional * (1 + 0.35 * Double(i % 7))
        let qty = max(DecimalText.floor(notional / price, step: stepSize), stepSize)
        return (price, qty)
    }

    /// Klines of `seconds` length built from one-minute bars (the one in progress last).
    func klines(intervalSeconds: Int64, limit: Int, startTime: Int64?, endTime: Int64?) -> [Bar] {
        // Without a time range only the newest `limit` intervals are needed.
        let minutes = Int(intervalSeconds / SimMarket.barSeconds)
        let all =
            startTime == nil && endTime == nil
            ? Array(bars.suffix((limit + 1) * minutes)) + [current] : bars + [current]
        var out: [Bar] = []
        let ms = intervalSeconds * 1000
        for bar in all {
            let open = bar.time - bar.time % ms
            if var last = out.last, last.time == open {
                last.add(price: bar.high, volume: 0)
                last.add(price: bar.low, volume: 0)
                last.add(price: bar.close, volume: bar.volume)
                out[out.count - 1] = last
            } else {
                var b = bar
                b.time = open
                out.append(b)
            }
        }
        if let startTime { out.removeAll { $0.time < startTime } }
        if let endTime { out.removeAll { $0.time > endTime } }
        return Array(out.suffix(limit))
    }
}
