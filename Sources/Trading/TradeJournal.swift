import ExchangeModel
import Glibc
import JSON
import SystemKit

/// One line of `data/trades/<SYMBOL>.jsonl`.
public enum JournalEntry: Equatable, Sendable {
    /// Written before an order is sent: after a crash, the engine asks the exchange about it
    /// instead of sending it again.
    case intent(seq: Int, ts: Double, clientOrderId: String, side: OrderSide, qty: Double)
    /// One execution; it counts once it is on disk.
    case fill(seq: Int, ts: Double, clientOrderId: String, orderId: Int64, fill: Fill, side: OrderSide)
    /// The order is final (or the exchange never had it): nothing more will fill.
    case done(seq: Int, ts: Double, clientOrderId: String, status: String)
    /// A UTC day began (the daily PnL's baseline) or the daily-loss pause changed: both survive
    /// a restart even without the snapshot.
    case day(seq: Int, ts: Double, day: String, startEquity: Double, paused: String?)
    /// Reconciliation adopted the exchange's position: `qty` (signed) booked at `price`.
    case adjust(seq: Int, ts: Double, qty: Double, price: Double, reason: String)

    public var seq: Int {
        switch self {
        case .intent(let s, _, _, _, _), .fill(let s, _, _, _, _, _), .done(let s, _, _, _), .day(let s, _, _, _, _),
            .adjust(let s, _, _, _, _):
            s
        }
    }

    public var ts: Double {
        switch self {
        case .intent(_, let t, _, _, _), .fill(_, let t, _, _, _, _), .done(_, let t, _, _), .day(_, let t, _, _, _),
            .adjust(_, let t, _, _, _):
            t
        }
    }

    public var json: JSON {
        switch self {
        case .intent(let seq, let ts, let id, let side, let qty):
            [
                "seq": JSON(seq), "type": "intent", "ts": JSON(ts), "client_order_id": .string(id),
                "side": .string(side.rawValue), "qty": JSON(qty),
            ]
        case .fill(let seq, let ts, let id, let orderId, let f, let side):
            [
                "seq": JSON(seq), "type": "fill", "ts": JSON(ts), "client_order_id": .string(id),
                "order_id": JSON(orderId),
                "trade_id": JSON(f.tradeId), "side": .string(side.rawValue), "price": JSON(f.price), "qty": JSON(f.qty),
                "fee": JSON(f.commission), "fee_asset": .string(f.commissionAsset),
            ]
        case .done(let seq, let ts, let id, let status):
            [
                "seq": JSON(seq), "type": "done", "ts": JSON(ts), "client_order_id": .string(id),
                "status": .string(status),
            ]
        case .day(let seq, let ts, let day, let startEquity, let paused):
            [
                "seq": JSON(seq), "type": "day", "ts": JSON(ts), "day": .string(day), "start_equity": JSON(startEquity),
                "paused": JSON(paused),
            ]
        case .adjust(let seq, let ts, let qty, let price, let reason):
            [
                "seq": JSON(seq), "type": "adjust", "ts": JSON(ts), "qty": JSON(qty), "price": JSON(price),
                "reason": .string(reason),
            ]
        }
    }

    public init?(json: JSON) {
        guard let seq = json["seq"]?.intValue, let type = json["type"]?.stringValue else { return nil }
        let ts = json["ts"]?.doubleValue ?? 0
        if type == "day" {
            guard let day = json["day"]?.stringValue, let startEquity = json["start_equity"]?.doubleValue else {
                return nil
            }
            self = .day(seq: seq, ts: ts, day: day, startEquity: startEquity, paused: json["paused"]?.stringValue)
            return
        }
        if type == "adjust" {
            guard let qty = json["qty"]?.doubleValue, let price = json["price"]?.doubleValue else { return nil }
            self = .adjust(seq: seq, ts: ts, qty: qty, price: price, reason: json["reason"]?.stringValue ?? "")
            return
        }
        guard let id = json["client_order_id"]?.stringValue else { return nil }
        switch type {
        case "intent":
            guard let side = json["side"]?.stringValue.flatMap(OrderSide.init), let qty = json["qty"]?.doubleValue
            else { return nil }
            self = .intent(seq: seq, ts: ts, clientOrderId: id, side: side, qty: qty)
        case "fill":
            // Ids are read as exact integers (journals written before they were integers hold them as whole doubles).
            guard let side = json["side"]?.stringValue.flatMap(OrderSide.init),
                let orderId = json["order_id"]?.int64Value,
                let tradeId = json["trade_id"]?.int64Value, let price = json["price"]?.doubleValue,
                let qty = json["qty"]?.doubleValue,
                let fee = json["fee"]?.doubleValue
            else { return nil }
            self = .fill(
                seq: seq, ts: ts, clientOrderId: id, orderId: orderId,
                fill: Fill(
                    tradeId: tradeId, price: price, qty: qty, commission: fee,
                    commissionAsset: json["fee_asset"]?.stringValue ?? ""), side: side)
        case "done":
            self = .done(seq: seq, ts: ts, clientOrderId: id, status: json["status"]?.stringValue ?? "")
        default:
            return nil
        }
    }
}

/// Where an engine's entries go: a file live, memory in a backtest.
public protocol Journal: AnyObject {
    /// Every entry written so far, in order.
    func load() throws -> [JournalEntry]
    /// Returns once the entry is durable (for a file: written and fsynced).
    func append(_ entry: JournalEntry) throws
}

/// A journal that lives as long as the process: a backtest's, or a test's.
public final class MemoryJournal: Journal {
    public private(set) var entries: [JournalEntry]
    public init(_ entries: [JournalEntry] = []) { self.entries = entries }
    public func load() throws -> [JournalEntry] { entries }
    public func append(_ entry: JournalEntry) throws { entries.append(entry) }
}

/// An append-only, fsynced journal. Each entry is one `write` of a whole line to an O_APPEND
/// file followed by `fsync`; a line torn by a crash (no newline) is cut off on the next open.
public final class TradeJournal: Journal {
    public let path: String
    private var fd: Int32 = -1

    public init(path: String) { self.path = path }

    deinit { if fd >= 0 { close(fd) } }

    /// Every complete entry in order. A torn tail is truncated away; a corrupt complete line is
    /// an error (the file needs an operator, not a guess).
    public func load() throws -> [JournalEntry] {
        guard FileSystem.exists(path) else { return [] }
        let bytes = try FileSystem.readFile(path)
        var entries: [JournalEntry] = []
        let tornAt = try JSONLines.forEach(in: bytes) { lineNumber, line in
            guard let json = try? JSON.parse(line), let entry = JournalEntry(json: json) else {
                throw SystemError(
                    "journal", errno: EINVAL,
                    detail:
                        "\(path):\(lineNumber) is not a journal entry; move the file aside to start this symbol afresh")
            }
            if let last = entries.last, entry.seq <= last.seq {
                throw SystemError(
                    "journal", errno: EINVAL, detail: "\(path):\(lineNumber): sequence \(entry.seq) after \(last.seq)")
            }
            entries.append(entry)
        }
        if tornAt < bytes.count {
            // The crash happened mid-write: that entry never counted.
            guard truncate(path, off_t(tornAt)) == 0 else { throw SystemError("truncate", detail: path) }
        }
        return entries
    }

    /// The complete entries of a journal another process is writing: nothing is truncated (its
    /// last line may be in the middle of a write) and an unreadable line is skipped, not fatal.
    public static func snapshot(path: String) -> [JournalEntry] {
        guard let bytes = try? FileSystem.readFile(path) else { return [] }
        var entries: [JournalEntry] = []
        JSONLines.forEach(in: bytes) { _, line in
            if let json = try? JSON.parse(line), let entry = JournalEntry(json: json) { entries.append(entry) }
        }
        return entries
    }

    public func append(_ entry: JournalEntry) throws {
        if fd < 0 {
            try FileSystem.makeDirectories(FileSystem.directoryName(path))
            fd = try retryingOnEINTR("open", detail: path) {
                open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            }
        }
        try FileSystem.writeAll(fd, entry.json.serializedBytes() + [0x0A], detail: path)
        try retryingOnEINTR("fsync", detail: path) { fsync(fd) }
    }
}
