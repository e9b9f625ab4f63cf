import Bus
import JSON
import RPC
import Testing

@testable import SuperBotDaemon

/// The daemon's seams, each driven alone: the method table and the bus relay's backend.
@Suite struct DaemonSeamsTests {
    func namespace(_ name: String, _ methods: [String], auth: Bool = true) -> MethodNamespace {
        MethodNamespace(name, methods, requiresAuth: auth) { _, _, reply in reply(.success(.string(name))) }
    }

    @Test func theMethodTableFindsNamespacesAndReservesThem() {
        let table = MethodTable([namespace("module", ["start", "stop"]), namespace("auth", ["login"], auth: false)])
        #expect(table.methods == ["auth.login", "module.start", "module.stop"])
        #expect(table.namespace(of: "module.start")?.name == "module")
        #expect(
            table.namespace(of: "module.explode")?.name == "module", "a namespace's unknown method is still its own")
        #expect(table.namespace(of: "trading.positions") == nil)
        #expect(table.namespace(of: "nodot") == nil)
        #expect(table.reservedNamespace(for: "module.mine") == "module")
        #expect(table.reservedNamespace(for: "scheduler.list") == nil)
        #expect(
            !table.requiresAuth("auth.login") && table.requiresAuth("module.stop")
                && table.requiresAuth("trading.orders"))
    }

    final class RecordingBackend: BusBackend {
        var delivered: [(Int, String)] = []
        var forwarded: [String] = []
        func deliver(_ message: [UInt8], to connection: Connection) {
            delivered.append((connection.id, String(decoding: message, as: UTF8.self)))
        }
        func didPublish(topic: String, data: ArraySlice<UInt8>, source: String) {
            forwarded.append("\(topic) \(String(decoding: data, as: UTF8.self)) \(source)")
        }
        func turnEnded() {}
    }

    func connection(_ id: Int) -> Connection {
        Connection(
            id: id, fd: -1, isTCP: false, maxMessageBytes: 1 << 20, authenticated: true, now: 0,
            queue: BoundedQueue(capacity: 10, byteLimit: 1 << 20))
    }

    @Test func localPublishesReachTheBridgeAndRemoteOnesDoNot() throws {
        let backend = RecordingBackend()
        let relay = BusRelay(backend: backend)
        let a = connection(1)
        let b = connection(2)
        _ = try relay.subscribe(a, "price.*.update")
        _ = try relay.subscribe(b, "price.>")
        let data = Array("{\"p\":1}".utf8)
        #expect(
            relay.publish(topic: "price.BTCUSDT.update", bytes: data, range: 0..<data.count, source: "trading") == 2)
        #expect(backend.forwarded == ["price.BTCUSDT.update {\"p\":1} trading"])
        #expect(backend.delivered.map(\.0).sorted() == [1, 2])
        let message = try JSON.parse(Array(backend.delivered[0].1.utf8.dropLast()))
        #expect(message["params"]?["data"] == ["p": 1] && message["params"]?["source"] == "trading")
        // A message a bridge brought in: delivered here, never handed back to forward.
        #expect(
            relay.publish(
                topic: "price.ETH.update", bytes: data, range: 0..<data.count, source: "other-host", local: false) == 2)
        #expect(backend.forwarded.count == 1)
        // A publish nobody here listens to still goes to the bridge.
        _ = relay.publish(topic: "alert.redis", bytes: data, range: 0..<data.count, source: "daemon")
        #expect(backend.forwarded.count == 2 && backend.delivered.count == 4)
    }
}
