import ExchangeModel
import JSON
import MarketData
import SystemKit
import TradingSettings

/// The steps of one cycle, in order; tests crash an engine at each of them.
public enum CycleStep: String, Sendable, CaseIterable {
    case marketData, signal, risk, intentJournaled, orderPlaced, fillJournaled, done, snapshot
}

/// What one cycle did, for logs, the bus and status.
public struct CycleReport: Sendable {
    public var price: Double
    public var signal: Signal
    public var decision: String?
    public var order: OrderResult?
    public var newFills: [Fill] = []
    public var paused: String?
    /// Set on the cycles that compared the books with the exchange account.
    public var reconciliation: Reconciliation?
}

/// The books against the exchange account for one symbol's base asset.
public struct Reconciliation: Sendable, Equatable {
    public enum Outcome: String, Sendable { case agrees, differs, unsettled }
    public var symbol: String
    public var asset: String
    public var books: Double
    /// The account's free + locked balance; nil while an order is unsettled (nothing is compared).
    public var exchange: Double?
    public var outcome: Outcome
    public var ts: Double
    /// Exchange trades compared with the journal's fills in this check.
    public var tradesCompared = 0
    /// Fills one side has and the other lacks, or that differ: a sentence each.
    public var tradeDifferences: [String] = []
    /// What `adopt_exchange` booked to agree with the exchange.
    public var adopted: [String] = []

    public var difference: Double? { exchange.map { $0 - books } }
}

/// One symbol's trading logic and durable state, independent of how it is scheduled: market
/// data → signal → risk → order → state update. The strategy sees closed bars of its interval
/// only (the kline that just closed, as freqtrade does), never ticker samples, so a backtest over
/// the same bars gets the same signals; the ticker marks the position and sizes orders. Every fill is journaled (fsync) before the ledger
/// counts it, an intent is journaled before an order is sent, and snapshots are atomic, so
/// `recover()` after a crash at any step rebuilds the exact ledger and never sends an order twice.
public final class EngineCore {
    public let settings: TradingConfig.Engine
    public let exchange: any ExchangeAPI
    public private(set) var ledger: Ledger
    public private(set) var strategy: any Strategy
    /// Open time of the newest closed bar the strategy has seen.
    public private(set) var lastBarTime: Int64?
    /// The order in flight, and when its intent was journaled.
    public private(set) var pending: (clientOrderId: String, side: OrderSide, qty: Double, since: Double)?
    public private(set) var cooldownUntil = 0.0
    public private(set) var pausedReason: String?
    /// The UTC day the pause belongs to; the next day trades again.
    private var pausedDay = ""
    public private(set) var lastSignal: Signal = .hold
    /// Whether `recover` completed: before that the ledger is not the engine's state.
    public private(set) var isRecovered = false
    public var crashHook: (CycleStep) throws -> Void = { _ in }
    let journal: any Journal
    /// Where snapshots go; nil keeps none (a backtest's core lives in memory).
    let snapshotPath: String?
    let clock: any WallClock
    /// Fills already journaled, by order and trade id: an exchange that restarts numbers its
    /// trades from 1 again, so a trade id alone does not identify a fill.
    private var seenFills: Set<FillKey> = []
    /// Quantity journaled per client order id, checked against the exchange's `executedQty`.
    private var bookedQty: [String: Double] = [:]
    /// When the books are next compared with the account (at the first cycle, then every
    /// `reconcile.interval`), and the pause a difference set.
    private var reconcileDue = 0.0
    public private(set) var reconcilePause: String?
    /// When the last fill was journaled (reconciliation waits `settleSeconds` after it).
    private var lastFillAt = -Double.infinity
    static let settleSeconds = 2.0
    /// Asks the next cycle to reconcile whatever the interval says (an operator's request).
    public var reconcileRequested = false
    /// Makes that check adopt the exchange's books once, whatever `on_mismatch` says.
    public var adoptRequested = false
    /// Journaled fills by the exchange's identity of them, compared with the account's trades.
    private var journalTrades: [TradeKey: Fill] = [:]
    /// The account's trades up to this id agree with the journal (kept in the snapshot).
    public private(set) var tradesCheckedThrough: Int64 = 0
    /// Trades one check asks for: one weighted request per check.
    static let tradesPerCheck = 1000
    /// Whether the strategy's stance has been compared with the position since the start.
    private var stanceChecked = false
    /// This incarnation's part of every client order id (see `clientOrderID`).
    private var idEpoch: String?
    private var nextSeq = 1
    private var rules: SymbolRules?
    private let risk: RiskManager

    public init(
        settings: TradingConfig.Engine, exchange: any ExchangeAPI, journal: any Journal, snapshotPath: String?,
        strategy: (any Strategy)? = nil, clock: any WallClock = SystemWallClock()
    ) {
        self.settings = settings
        self.exchange = exchange
        ledger = Ledger(initialCash: settings.initialCash)
        self.strategy = strategy ?? StrategyFactory.make(settings.strategy)
        self.journal = journal
        self.snapshotPath = snapshotPath
        self.clock = clock
        risk = RiskManager(settings.risk)
    }

    /// The live engine's core: journal and snapshot under `dataDirectory`.
    public convenience init(
        settings: TradingConfig.Engine, exchange: any ExchangeAPI, dataDirectory: String,
        clock: any WallClock = SystemWallClock()
    ) {
        self.init(
            settings: settings, exchange: exchange,
            journal: TradeJournal(path: "\(dataDirectory)/trades/\(settings.symbol).jsonl"),
            snapshotPath: "\(dataDirectory)/state/\(settings.symbol).json", clock: clock)
    }

    /// The ledger an engine's snapshot file holds, and when it was written: what a status shows,
    /// marked stale, while the engine has not (or could not) recover.
    public static func snapshot(at path: String) -> (ledger: Ledger, ts: Double)? {
        guard let bytes = try? FileSystem.readFile(path), let json = try? JSON.parse(bytes),
            let ledger = json["ledger"].flatMap(Ledger.init(json:))
        else { return nil }
        return (ledger, json["ts"]?.doubleValue ?? 0)
    }

    /// Closed bars asked for each cycle: a cycle that ran late still sees the bars it missed.
    static let barsPerCycle = 5

    public var symbol: String { settings.symbol }

    // MARK: Recovery

    /// Loads the snapshot and replays the journal past it, then settles an order that was in
    /// flight at the crash by asking the exchange (never by sending it again).
    public func recover(now: Double) async throws {
        let entries = try journal.load()
        var ledger = Ledger(initialCash: settings.initialCash)
        if let snapshotPath, FileSystem.exists(snapshotPath) {
            let bytes = try FileSystem.readFile(snapshotPath)
            guard let json = try? JSON.parse(bytes), let saved = json["ledger"].flatMap(Ledger.init(json:)) else {
                throw SystemError(
                    "snapshot", errno: 22,
                    detail: "\(snapshotPath) is not a snapshot; move it aside (the journal alone rebuilds the state)")
            }
            // A snapshot ahead of the journal cannot be trusted (the journal is written first).
            if saved.lastSeq <= (entries.last?.seq ?? 0) {
                ledger = saved
                cooldownUntil = json["cooldown_until"]?.doubleValue ?? 0
                tradesCheckedThrough = json["trades_checked_through"]?.int64Value ?? 0
            }
        }
        var open: [String: (OrderSide, Double, Double)] = [:]
        var order: [String] = []
        var lastDay: (day: String, startEquity: Double, paused: String?)?
        for entry in entries {
            switch entry {
            case .intent(_, let ts, let id, let side, let qty):
                open[id] = (side, qty, ts)
                order.append(id)
            case .fill(let seq, _, let id, let orderId, let fill, let side):
                seenFills.insert(FillKey(clientOrderId: id, tradeId: fill.tradeId))
                journalTrades[TradeKey(orderId: orderId, tradeId: fill.tradeId)] = fill
                bookedQty[id, default: 0] += fill.qty
                if seq > ledger.lastSeq {
                    ledger.apply(
                        side: side, price: fill.price, qty: fill.qty, fee: quoteFee(fill), baseFee: baseFee(fill))
                }
            case .done(_, _, let id, _):
                open.removeValue(forKey: id)
            case .day(_, _, let day, let startEquity, let paused):
                lastDay = (day, startEquity, paused)
            case .adjust(let seq, _, let qty, let price, _):
                if seq > ledger.lastSeq { ledger.adjust(by: qty, price: price) }
            }
            ledger.lastSeq = max(ledger.lastSeq, entry.seq)
        }
        nextSeq = (entries.last?.seq ?? 0) + 1
        // The journal's first entry dates this incarnation: a journal moved aside starts a new one.
        idEpoch = entries.first.map { EngineCore.epoch($0.ts) }
        // The day's baseline and the pause come from the journal, so losing the snapshot loses neither.
        if let lastDay {
            ledger.day = lastDay.day
            ledger.dayStartEquity = lastDay.startEquity
            pausedReason = lastDay.paused
            pausedDay = lastDay.paused == nil ? "" : lastDay.day
        }
        self.ledger = ledger
        // Mark at a fresh price before anything reports: a journal-only rebuild knows only fill prices.
        if let price = try? await exchange.tickerPrice(symbol), price.isFinite, price > 0 {
            try markPrice(price, now: now)
        }
        if let id = order.last(where: { open[$0] != nil }), let (side, qty, since) = open[id] {
            pending = (id, side, qty, since)
        }
        if pending != nil { try await settlePending(now: now) }
        isRecovered = true
    }

    /// Feeds exchange history (closed bars) to the strategy so the first live cycle can already trade.
    public func warmUp() async throws {
        let bars = try await exchange.klines(
            symbol, interval: settings.strategy.interval, limit: strategy.warmupBars + 5)
        _ = feedClosedBars(bars)
        if let last = bars.last, ledger.lastPrice == 0 {
            ledger.mark(price: last.close, day: Clock.utcDay(clock.now()))
        }
    }

    /// Gives the strategy the closed bars it has not seen (klines come oldest first, the last one
    /// still forming) and returns the newest one's signal: only the latest closed bar is acted on.
    private func feedClosedBars(_ bars: [Bar]) -> Signal {
        var signal = Signal.hold
        for bar in bars.dropLast() where lastBarTime.map({ bar.time > $0 }) ?? true {
            signal = strategy.update(bar)
            lastBarTime = bar.time
        }
        return signal
    }

    // MARK: Cycle

    public func cycle(now: Double) async throws -> CycleReport {
        if pending != nil { try await settlePending(now: now) }
        let price = try await exchange.tickerPrice(symbol)
        guard price.isFinite, price > 0 else {
            throw ExchangeError.malformed("\(symbol): price \(price) is not a positive number")
        }
        try markPrice(price, now: now)
        // The daily loss limit pauses new entries until the next UTC day.
        if pausedReason == nil, let breach = risk.dailyLossBreach(ledger) { try pause(breach, now: now) }
        var reconciliation: Reconciliation?
        if reconcileRequested || now >= reconcileDue {
            reconcileRequested = false
            reconcileDue = now + settings.reconcile.interval
            // One failed look-up only delays the check; the cycle goes on.
            reconciliation = try? await reconcile(now: now)
        }
        let bars = try await exchange.klines(
            symbol, interval: settings.strategy.interval, limit: EngineCore.barsPerCycle)
        try crashHook(.marketData)

        let signal = feedClosedBars(bars)
        lastSignal = signal
        var report = CycleReport(price: price, signal: signal)
        report.reconciliation = reconciliation
        try crashHook(.signal)
        report.paused = pausedReason ?? reconcilePause
        // A pause stops entries only: exits, on a signal or the stop-loss, still go out.
        let side: OrderSide
        var qty: Double
        // A risk exit (stop-loss, or a long the strategy no longer wants) goes out whatever the signal.
        let riskExit = stopLossHit(price) ?? staleLong(signal)
        if riskExit != nil {
            side = .sell
            qty = ledger.position
        } else {
            switch signal {
            case .hold: return report
            case .buy:
                guard pausedReason == nil, reconcilePause == nil else { return report }
                side = .buy
                qty = settings.orderNotional / price
            case .sell:
                guard ledger.position > 0 else { return report }
                side = .sell
                qty = ledger.position
            }
        }
        if rules == nil { rules = try await exchange.symbolRules(symbol) }
        // A buy is sized by walking the book; without one the risk check keeps a wider margin.
        let asks = side == .buy ? ((try? await exchange.depth(symbol, limit: 20))?.asks ?? []) : []
        let decision = risk.check(
            side: side, qty: qty, price: price, ledger: ledger, rules: rules!, now: now, cooldownUntil: cooldownUntil,
            asks: asks)
        try crashHook(.risk)
        switch decision {
        case .reject(let why):
            report.decision = "rejected: \(why)"
            return report
        case .pause(let why):
            try pause(why, now: now)
            report.decision = "paused: \(why)"
            report.paused = why
            return report
        case .allow(let allowed):
            qty = allowed
        }
        report.decision = riskExit.map { "allowed (\($0))" } ?? "allowed"
        let clientOrderId = clientOrderID(now: now)
        try append(.intent(seq: nextSeq, ts: now, clientOrderId: clientOrderId, side: side, qty: qty))
        pending = (clientOrderId, side, qty, now)
        try crashHook(.intentJournaled)

        let result: OrderResult
        do {
            result = try await exchange.placeOrder(
                NewOrder(symbol: symbol, side: side, quantity: qty, clientOrderId: clientOrderId))
        } catch let error as ExchangeError where !error.mayHaveExecuted {
            // Refused, so nothing executed: the intent is closed and the error reported.
            try append(.done(seq: nextSeq, ts: now, clientOrderId: clientOrderId, status: "REJECTED"))
            pending = nil
            throw error
        }
        try crashHook(.orderPlaced)
        try refuseIfOlder(result, now: now)
        report.order = result
        report.newFills = try record(result, side: side, now: now)
        return report
    }

    /// `sb-<SYMBOL>-<epoch>-<seq>`: unique per engine incarnation (the epoch is the journal's
    /// first entry, in base-36 milliseconds), so a restarted journal never reuses an id the
    /// exchange already knows; at most 36 characters, as Binance allows.
    private func clientOrderID(now: Double) -> String {
        let epoch = idEpoch ?? EngineCore.epoch(now)
        idEpoch = epoch
        let tail = "-\(epoch)-\(nextSeq)"
        return "sb-" + String(symbol.prefix(max(1, 36 - 3 - tail.count))) + tail
    }

    static func epoch(_ seconds: Double) -> String { String(Int64((seconds * 1000).rounded()), radix: 36) }

    /// Compares the books with the exchange: the position with the account's balance of the base
    /// asset (each engine holds its own base asset: the check assumes no other holder of it in
    /// the account), and the journal's fills with the account's trades past the last check. A
    /// difference pauses entries under `reconcile.on_mismatch: pause` until a later check agrees,
    /// or is booked under `adopt_exchange` (or once, when an operator asks).
    public func reconcile(now: Double) async throws -> Reconciliation {
        var result = Reconciliation(
            symbol: symbol, asset: settings.baseAsset, books: ledger.position, exchange: nil, outcome: .unsettled,
            ts: now)
        // An order in flight, or fills younger than the connector's account cache, would make a
        // difference that is not one: check again shortly instead.
        guard pending == nil, now - lastFillAt >= EngineCore.settleSeconds else {
            reconcileDue = min(reconcileDue, now + EngineCore.settleSeconds)
            return result
        }
        let adopt = adoptRequested || settings.reconcile.onMismatch == "adopt_exchange"
        adoptRequested = false
        let balance = try await exchange.accountBalance(settings.baseAsset)
        let page = try await exchange.accountTrades(
            symbol, fromId: tradesCheckedThrough + 1, limit: EngineCore.tradesPerCheck)
        result.exchange = balance
        result.tradesCompared = page.count
        let unbooked = compareTrades(page, into: &result)
        if adopt {
            try adoptExchange(unbooked, balance: balance, now: now, into: &result)
        }
        let balanceAgrees = abs(balance - ledger.position) <= max(1e-9, 1e-9 * abs(balance))
        result.books = ledger.position
        if let last = page.last?.fill.tradeId, last > tradesCheckedThrough, result.tradeDifferences.isEmpty || adopt {
            // Checked (or accepted) up to here: the next check, even after a restart, starts past it.
            tradesCheckedThrough = last
            try saveSnapshot(now: now)
        }
        let agrees = result.tradeDifferences.isEmpty && balanceAgrees && result.adopted.isEmpty
        result.outcome = agrees ? .agrees : .differs
        if agrees || adopt {
            reconcilePause = nil
        } else if settings.reconcile.onMismatch == "pause" {
            let trades = result.tradeDifferences.count
            reconcilePause =
                balanceAgrees
                ? "\(trades) trade\(trades == 1 ? "" : "s") differ from the exchange's: entries paused"
                : "books hold \(ledger.position) \(settings.baseAsset), the account \(balance): entries paused"
        }
        return result
    }

    /// Fills of `page` (the account's trades from the watermark on) that the journal lacks, with
    /// every difference either way written into `result`.
    private func compareTrades(_ page: [AccountTrade], into result: inout Reconciliation) -> [AccountTrade] {
        func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a)) }
        var listed = Set<TradeKey>()
        var unbooked: [AccountTrade] = []
        for trade in page {
            let f = trade.fill
            let key = TradeKey(orderId: trade.orderId, tradeId: f.tradeId)
            listed.insert(key)
            guard let booked = journalTrades[key] else {
                unbooked.append(trade)
                result.tradeDifferences.append(
                    "exchange trade \(f.tradeId) of order \(trade.orderId) (\(trade.side.rawValue) \(f.qty) at \(f.price)) is not in the journal"
                )
                continue
            }
            if !same(booked.qty, f.qty) || !same(booked.price, f.price) || !same(booked.commission, f.commission) {
                result.tradeDifferences.append(
                    "trade \(f.tradeId) of order \(trade.orderId): journal \(booked.qty) at \(booked.price) (fee \(booked.commission)), exchange \(f.qty) at \(f.price) (fee \(f.commission))"
                )
            }
        }
        // A full page covers ids up to its last one; a short one, everything there is.
        let through = page.count < EngineCore.tradesPerCheck ? Int64.max : page.last!.fill.tradeId
        for (key, fill) in journalTrades.sorted(by: { $0.key.tradeId < $1.key.tradeId })
        where key.tradeId > tradesCheckedThrough && key.tradeId <= through && !listed.contains(key) {
            result.tradeDifferences.append(
                "journal fill \(key.tradeId) of order \(key.orderId) (\(fill.qty) at \(fill.price)) is not among the exchange's trades"
            )
        }
        return unbooked
    }

    /// Books the exchange's view: its trades the journal lacks as fills (exact prices and fees),
    /// then whatever position difference remains as an adjustment at the last price.
    private func adoptExchange(
        _ unbooked: [AccountTrade], balance: Double, now: Double, into result: inout Reconciliation
    ) throws {
        for trade in unbooked {
            let id = "exchange-\(trade.orderId)"
            try append(
                .fill(
                    seq: nextSeq, ts: now, clientOrderId: id, orderId: trade.orderId, fill: trade.fill, side: trade.side
                ))
            book(trade.fill, clientOrderId: id, orderId: trade.orderId, side: trade.side)
            result.adopted.append(
                "booked exchange trade \(trade.fill.tradeId) (\(trade.side.rawValue) \(trade.fill.qty) at \(trade.fill.price))"
            )
        }
        let difference = balance - ledger.position
        if abs(difference) > max(1e-9, 1e-9 * abs(balance)) {
            let reason = "the account holds \(balance) \(settings.baseAsset), the books \(ledger.position)"
            try append(.adjust(seq: nextSeq, ts: now, qty: difference, price: ledger.lastPrice, reason: reason))
            ledger.adjust(by: difference, price: ledger.lastPrice)
            result.adopted.append("adjusted the position by \(difference) at \(ledger.lastPrice): \(reason)")
        }
    }

    /// Marks the position at `price`; a new UTC day starts the daily PnL from here and lifts
    /// yesterday's pause, and is journaled (so is the baseline).
    private func markPrice(_ price: Double, now: Double) throws {
        let day = Clock.utcDay(now)
        let newDay = day != ledger.day
        ledger.mark(price: price, day: day)
        guard newDay else { return }
        if pausedDay != day { pausedReason = nil }
        try append(.day(seq: nextSeq, ts: now, day: day, startEquity: ledger.dayStartEquity, paused: pausedReason))
    }

    private func pause(_ why: String, now: Double) throws {
        pausedReason = why
        pausedDay = ledger.day
        try append(.day(seq: nextSeq, ts: now, day: ledger.day, startEquity: ledger.dayStartEquity, paused: why))
    }

    /// Why the position must be cut now, or nil: the price fell `risk.stop_loss` below the entry.
    private func stopLossHit(_ price: Double) -> String? {
        let limit = settings.risk.stopLoss
        guard limit > 0, ledger.position > 0, ledger.averagePrice > 0, price <= ledger.averagePrice * (1 - limit) else {
            return nil
        }
        let drop = (1 - price / ledger.averagePrice) * 100
        return "stop-loss: price \(price) is \((drop * 100).rounded() / 100) % below the entry \(ledger.averagePrice)"
    }

    /// Once per incarnation, as soon as the strategy can tell: a long it no longer wants (its
    /// exit crossover passed while the engine was down) is closed instead of kept until the next one.
    private func staleLong(_ signal: Signal) -> String? {
        guard !stanceChecked, let wantsLong = strategy.wantsLong else { return nil }
        stanceChecked = true
        guard ledger.position > 0, !wantsLong, signal == .hold else { return nil }
        return "the strategy no longer wants this long: its exit passed while the engine was down"
    }

    /// Journals the fills not yet seen, then (if the order is final) closes it and snapshots.
    private func record(_ result: OrderResult, side: OrderSide, now: Double) throws -> [Fill] {
        var fresh: [Fill] = []
        let realizedBefore = ledger.realizedPnL
        for fill in result.fills
        where !seenFills.contains(FillKey(clientOrderId: result.clientOrderId, tradeId: fill.tradeId)) {
            guard fill.qty.isFinite, fill.qty > 0, fill.price.isFinite, fill.price > 0, fill.commission.isFinite,
                fill.commission >= 0
            else {
                throw ExchangeError.malformed("\(symbol): fill \(fill.tradeId) has a bad price, quantity or fee")
            }
            try append(
                .fill(
                    seq: nextSeq, ts: now, clientOrderId: result.clientOrderId, orderId: result.orderId, fill: fill,
                    side: side))
            book(fill, clientOrderId: result.clientOrderId, orderId: result.orderId, side: side)
            fresh.append(fill)
            lastFillAt = now
            try crashHook(.fillJournaled)
        }
        if side == .sell && ledger.realizedPnL < realizedBefore { cooldownUntil = now + settings.risk.lossCooldown }
        if result.isFinal {
            // A final order whose fills do not add up to what it executed stays open: the missing
            // fills are fetched (orderTrades) when it is settled on a later cycle.
            let booked = bookedQty[result.clientOrderId] ?? 0
            guard booked >= result.executedQty * (1 - 1e-9) - 1e-12 else {
                throw ExchangeError.unknownOutcome(
                    "\(result.clientOrderId) executed \(result.executedQty) but its fills add up to \(booked)")
            }
            try append(.done(seq: nextSeq, ts: now, clientOrderId: result.clientOrderId, status: result.status))
            pending = nil
            try crashHook(.done)
            try saveSnapshot(now: now)
            try crashHook(.snapshot)
        }
        return fresh
    }

    /// Orders whose time is this far before their intent (clock skew allowed, as Binance's
    /// `recvWindow`) cannot be the intent's own.
    static let clockSkew = 5.0

    /// An exchange holds one order per client id. If the one it holds under the pending id is
    /// older than the intent, the id collided with another order and this intent was never
    /// placed (its placement was refused as a duplicate): it is closed unbooked, with an error,
    /// and that order's fills are never taken for the intent's.
    private func refuseIfOlder(_ result: OrderResult, now: Double) throws {
        guard let (id, _, _, since) = pending, result.clientOrderId == id, let created = result.time,
            Double(created) / 1000 < since - EngineCore.clockSkew
        else { return }
        try append(.done(seq: nextSeq, ts: now, clientOrderId: id, status: "COLLIDED"))
        pending = nil
        throw ExchangeError.rejected(
            status: 400, code: -2010,
            message:
                "client order id \(id) already names order \(result.orderId), created \(Double(created) / 1000), before this intent (\(since)): the intent was never placed; nothing booked"
        )
    }

    /// Asks the exchange what became of the order in flight.
    private func settlePending(now: Double) async throws {
        guard let (id, side, _, _) = pending else { return }
        guard let order = try await exchange.queryOrder(symbol: symbol, clientOrderId: id) else {
            try append(.done(seq: nextSeq, ts: now, clientOrderId: id, status: "NOT_FOUND"))
            pending = nil
            try saveSnapshot(now: now)
            return
        }
        try refuseIfOlder(order, now: now)
        var full = order
        full.fills = try await exchange.orderTrades(symbol: symbol, orderId: order.orderId)
        _ = try record(full, side: side, now: now)
    }

    /// Counts a journaled fill in the ledger and in what reconciliation and settling compare.
    private func book(_ fill: Fill, clientOrderId: String, orderId: Int64, side: OrderSide) {
        seenFills.insert(FillKey(clientOrderId: clientOrderId, tradeId: fill.tradeId))
        journalTrades[TradeKey(orderId: orderId, tradeId: fill.tradeId)] = fill
        bookedQty[clientOrderId, default: 0] += fill.qty
        ledger.apply(side: side, price: fill.price, qty: fill.qty, fee: quoteFee(fill), baseFee: baseFee(fill))
    }

    /// A commission in the base asset comes out of the position (as the account receives);
    /// one in any other asset is paid from cash.
    private func baseFee(_ fill: Fill) -> Double { fill.commissionAsset == settings.baseAsset ? fill.commission : 0 }
    private func quoteFee(_ fill: Fill) -> Double { fill.commissionAsset == settings.baseAsset ? 0 : fill.commission }

    private func append(_ entry: JournalEntry) throws {
        try journal.append(entry)
        nextSeq = entry.seq + 1
        ledger.lastSeq = entry.seq
    }

    public func saveSnapshot(now: Double) throws {
        guard let snapshotPath else { return }
        let json: JSON = [
            "symbol": .string(symbol), "ts": JSON(now), "ledger": ledger.json, "cooldown_until": JSON(cooldownUntil),
            "trades_checked_through": JSON(tradesCheckedThrough),
        ]
        try FileSystem.makeDirectories(FileSystem.directoryName(snapshotPath))
        try FileSystem.writeAtomically(snapshotPath, json.serializedBytes() + [0x0A])
    }
}

/// One execution as the exchange names it (`myTrades` lists order and trade ids).
struct TradeKey: Hashable {
    let orderId: Int64
    let tradeId: Int64
}

/// One execution's identity across exchange restarts.
struct FillKey: Hashable {
    let clientOrderId: String
    let tradeId: Int64
}
