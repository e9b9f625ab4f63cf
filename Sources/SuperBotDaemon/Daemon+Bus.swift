import Bus
import JSON
import RPC

/// `bus.*`: publish (the slow path; plain publishes take ControlServer's fast path), subscribe,
/// unsubscribe.
extension Daemon {
    var busMethods: MethodNamespace {
        MethodNamespace("bus", ["publish", "subscribe", "unsubscribe"]) { [unowned self] request, connection, reply in
            handleBus(request, connection, reply)
        }
    }

    func handleBus(_ request: RPCRequest, _ connection: Connection, _ reply: @escaping ControlServer.Reply) {
        switch request.method {
        case "bus.publish":
            guard let topic = param(request, "topic")?.stringValue else {
                return reply(.failure(.invalidParams("bus.publish needs {\"topic\": \"a.b.c\", \"data\": …}")))
            }
            do {
                try Topic.validate(topic)
            } catch {
                return reply(.failure(.invalidParams("\(error)")))
            }
            let receivers = bus.publish(
                topic: topic, param(request, "data", 1) ?? .null, source: source(of: connection))
            reply(.success(["delivered": JSON(receivers)]))
        case "bus.subscribe":
            let requested = patterns(request)
            guard !requested.isEmpty else {
                return reply(
                    .failure(
                        .invalidParams("bus.subscribe needs {\"pattern\": \"price.*.update\"} or {\"patterns\": [...]}")
                    ))
            }
            do {
                for pattern in requested { try Topic.validatePattern(pattern) }
                var total = 0
                for pattern in requested { total = try bus.subscribe(connection, pattern) }
                reply(.success(["subscribed": .array(requested.map { .string($0) }), "subscriptions": JSON(total)]))
            } catch {
                reply(.failure(.invalidParams("\(error)")))
            }
        default:
            let requested = patterns(request)
            var remaining = 0
            if requested.isEmpty {
                remaining = bus.unsubscribe(connection, nil)
            } else {
                for pattern in requested { remaining = bus.unsubscribe(connection, pattern) }
            }
            reply(.success(["subscriptions": JSON(remaining)]))
        }
    }

    private func patterns(_ request: RPCRequest) -> [String] {
        if let list = param(request, "patterns")?.arrayValue { return list.compactMap(\.stringValue) }
        return param(request, "pattern").flatMap(\.stringValue).map { [$0] } ?? []
    }
}
