import ExchangeConnector
import JSON
import RPC

/// The trading module's methods (`engines.*`, `trading.*`), served through the daemon. The
/// executable registers them with its module runtime; tests can call them directly.
public enum EngineMethods {
    public typealias Handler = @Sendable (JSON?) async throws -> JSON

    /// Every method with its handler. `faults`: also `engines.inject_fault` (tests only).
    public static func table(manager: EngineManager, client: ExchangeClient, faults: Bool) -> [(String, Handler)] {
        var table: [(String, Handler)] = [
            (
                "engines.status",
                { params in try await mapped { try await manager.statusJSON(try symbol(params, required: false)) } }
            ),
            ("engines.start", control(manager) { try await manager.start($0) }),
            ("engines.stop", control(manager) { try await manager.stop($0) }),
            ("engines.restart", control(manager) { try await manager.restart($0) }),
            ("trading.positions", { _ in ["positions": await manager.positions()] }),
            (
                "trading.orders",
                { params in try await mapped { try await manager.orders(try symbol(params, required: false)) } }
            ),
            ("trading.balance", { _ in await balance(manager, client) }),
            ("trading.trades", { params in try await mapped { try await trades(manager, params) } }),

            (
                "trading.reconcile",
                { params in
                    [
                        "reconciliation": try await mapped {
                            try await manager.reconcile(
                                try symbol(params, required: false), adopt: try adopt(params))
                        }
                    ]
                }
            ),
        ]
        if faults {
            table.append(
                (
                    "engines.inject_fault",
                    { params in
                        let name = try symbol(params, required: true)!
                        guard let kind = params?["fault"]?.stringValue.flatMap(EngineFault.init) else {
                            throw RPCError.invalidParams("needs {\"symbol\", \"fault\": crash|hang|error}")
                        }
                        try await mapped { try await manager.inject(kind, into: name) }
                        return ["injected": .string(kind.rawValue), "symbol": .string(name)]
                    }
                ))
        }
        return table
    }

    /// `{"symbol": "BTCUSDT"}` or `["BTCUSDT"]`.
    static func symbol(_ params: JSON?, required: Bool) throws -> String? {
        let value = params?["symbol"] ?? params?.arrayValue?.first
        guard let symbol = value?.stringValue, !symbol.isEmpty else {
            if required { throw RPCError.invalidParams("needs {\"symbol\": \"BTCUSDT\"}") }
            return nil
        }
        return symbol
    }

    /// `"adopt": true` books the exchange's view once (absent: false).
    static func adopt(_ params: JSON?) throws -> Bool {
        guard let value = params?["adopt"] else { return false }
        guard let adopt = value.boolValue else { throw RPCError.invalidParams("'adopt' must be true or false") }
        return adopt
    }

    /// An unknown symbol or a refused control is the caller's mistake: invalid params, with the reason.
    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as EngineManager.ControlError {
            throw RPCError.invalidParams(e.description)
        }
    }

    static func control(_ manager: EngineManager, _ body: @escaping @Sendable (String) async throws -> Void) -> Handler
    {
        { params in
            let name = try symbol(params, required: true)!
            try await mapped { try await body(name) }
            return try await manager.statusJSON(name)
        }
    }

    /// `{symbol, limit, offset}` (all optional; `limit` 0 = all): closed trades, newest first.
    static func trades(_ manager: EngineManager, _ params: JSON?) async throws -> JSON {
        func count(_ key: String, _ fallback: Int) throws -> Int {
            guard let value = params?[key] else { return fallback }
            guard let n = value.intValue, n >= 0 else {
                throw RPCError.invalidParams("'\(key)' must be an integer ≥ 0")
            }
            return n
        }
        let limit = try count("limit", 0)
        let offset = try count("offset", 0)
        let all = try await manager.closedTrades(try symbol(params, required: false))
        let page = all.dropFirst(offset).prefix(limit == 0 ? Int.max : limit)
        return [
            "total": JSON(all.count), "offset": JSON(offset), "limit": JSON(limit),
            "trades": .array(page.map(\.json)),
        ]
    }

    static func balance(_ manager: EngineManager, _ client: ExchangeClient) async -> JSON {
        var out = await manager.balance().objectValue ?? [:]
        if let balances = try? await client.balances() {
            out["exchange"] = .object(balances.mapValues { ["free": JSON($0.free), "locked": JSON($0.locked)] })
        }
        let pool = client.pool.stats
        let stats = client.cache.stats
        let cache = stats.mapValues { JSON($0.hitRate) }
        out["connector"] = [
            "requests": JSON(client.counterValues.requests), "retries": JSON(client.counterValues.retries),
            "connections_open": JSON(pool.open), "connections_reused": JSON(pool.reused),
            "cache_hit_rate": .object(cache),
            "cache_hits": .object(stats.mapValues { JSON($0.hits) }),
            "cache_misses": .object(stats.mapValues { JSON($0.misses) }),
        ]
        return .object(out)
    }
}
