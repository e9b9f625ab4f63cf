import Glibc
import JSON
import SystemKit

/// The simulator's account on disk (`simulator.state_file`), so a restarted exchange-sim still
/// knows its balances, orders and trades, as a real exchange does after an outage: an engine
/// that lost a reply while the simulator died can still ask what became of its order.
///
/// An append-only JSON Lines file. Every change is one line holding the order's whole record
/// and the absolute balances it touched, written before the reply goes out (replaying a line
/// twice changes nothing). Lines are not fsynced: a `kill -9` loses nothing, a power cut may
/// lose the tail, which is acceptable for a simulator. At start the file is compacted to one
/// line per order.
final class SimStore {
    /// What the file held: the price path's origin (wall seconds), balances and every order.
    struct State {
        var origin: Double
        var balances: [String: SimBalance]
        var orders: [Int64: SimOrder]
    }

    let path: String
    private var fd: Int32 = -1

    init(path: String) { self.path = path }

    deinit { if fd >= 0 { close(fd) } }

    /// The state the file holds, or nil when there is none yet. A torn last line (the process
    /// died mid-write) never counted; a damaged complete line is an error naming it.
    func load() throws -> State? {
        guard FileSystem.exists(path) else { return nil }
        let bytes = try FileSystem.readFile(path)
        var state: State?
        try JSONLines.forEach(in: bytes) { lineNumber, line in
            let place = "\(path):\(lineNumber)"
            guard let json = try? JSON.parse(line) else {
                throw SimError("\(place) is not JSON; move the file aside to start the simulator's account afresh")
            }
            if let origin = json["origin"]?.doubleValue {
                state = State(origin: origin, balances: [:], orders: [:])
            }
            guard state != nil else { throw SimError("\(place): the file does not start with its origin line") }
            for (asset, value) in json["balances"]?.objectValue ?? [:] {
                guard let pair = value.arrayValue, pair.count == 2, let free = pair[0].doubleValue,
                    let locked = pair[1].doubleValue
                else { throw SimError("\(place): balance of \(asset) is not [free, locked]") }
                state!.balances[asset] = SimBalance(free: free, locked: locked)
            }
            if let record = json["order"] {
                guard let order = SimOrder(json: record) else { throw SimError("\(place): not an order record") }
                state!.orders[order.orderId] = order
            }
        }
        return state
    }

    /// Rewrites the file as the state alone (one line per order), atomically.
    func compact(_ state: State) throws {
        var out = line(["origin": JSON(state.origin), "balances": SimStore.json(state.balances)])
        for id in state.orders.keys.sorted() { out += line(["order": state.orders[id]!.json]) }
        try FileSystem.makeDirectories(FileSystem.directoryName(path))
        try FileSystem.writeAtomically(path, out)
        if fd >= 0 { close(fd) }
        fd = try retryingOnEINTR("open", detail: path) { open(path, O_WRONLY | O_APPEND | O_CLOEXEC) }
    }

    /// Records one order's new state and the balances it moved.
    func record(_ order: SimOrder, balances: [String: SimBalance]) throws {
        try FileSystem.writeAll(
            fd, line(["order": order.json, "balances": SimStore.json(balances)]), detail: path)
    }

    private func line(_ json: JSON) -> [UInt8] { json.serializedBytes() + [0x0A] }

    private static func json(_ balances: [String: SimBalance]) -> JSON {
        .object(balances.mapValues { [JSON($0.free), JSON($0.locked)] })
    }
}

extension SimOrder {
    var json: JSON {
        [
            "id": JSON(orderId), "client_id": .string(clientOrderId), "symbol": .string(symbol), "side": .string(side),
            "type": .string(type), "tif": .string(timeInForce), "price": JSON(price), "qty": JSON(origQty),
            "executed": JSON(executedQty), "quote": JSON(cumulativeQuote), "status": .string(status.rawValue),
            "time": JSON(time), "update_time": JSON(updateTime), "locked": JSON(locked),
            "fills": .array(
                fills.map {
                    [
                        "id": JSON($0.tradeId), "price": JSON($0.price), "qty": JSON($0.qty),
                        "fee": JSON($0.commission), "fee_asset": .string($0.commissionAsset), "time": JSON($0.time),
                        "maker": .bool($0.isMaker),
                    ]
                }),
        ]
    }

    init?(json: JSON) {
        guard let id = json["id"]?.int64Value, let client = json["client_id"]?.stringValue,
            let symbol = json["symbol"]?.stringValue, let side = json["side"]?.stringValue,
            let type = json["type"]?.stringValue, let tif = json["tif"]?.stringValue,
            let price = json["price"]?.doubleValue, let qty = json["qty"]?.doubleValue,
            let executed = json["executed"]?.doubleValue, let quote = json["quote"]?.doubleValue,
            let status = json["status"]?.stringValue.flatMap(Status.init), let time = json["time"]?.int64Value,
            let updateTime = json["update_time"]?.int64Value, let locked = json["locked"]?.doubleValue,
            let fills = json["fills"]?.arrayValue
        else { return nil }
        self.init(
            orderId: id, clientOrderId: client, symbol: symbol, side: side, type: type, timeInForce: tif,
            price: price, origQty: qty, time: time, updateTime: updateTime)
        executedQty = executed
        cumulativeQuote = quote
        self.status = status
        self.locked = locked
        for f in fills {
            guard let tradeId = f["id"]?.int64Value, let p = f["price"]?.doubleValue, let q = f["qty"]?.doubleValue,
                let fee = f["fee"]?.doubleValue, let asset = f["fee_asset"]?.stringValue,
                let t = f["time"]?.int64Value, let maker = f["maker"]?.boolValue
            else { return nil }
            self.fills.append(
                SimFill(
                    tradeId: tradeId, orderId: id, symbol: symbol, price: p, qty: q, commission: fee,
                    commissionAsset: asset, time: t, isBuyer: side == "BUY", isMaker: maker))
        }
    }
}
