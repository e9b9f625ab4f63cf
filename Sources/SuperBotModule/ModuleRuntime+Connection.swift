import Bus
import Dispatch
import Glibc
import JSON
import RPC
import SuperBotLog
import Synchronization
import SystemKit

/// The connection to the daemon: writes under one lock, and a reader thread that reconnects
/// with backoff and replays subscriptions, registrations and log declarations.
extension ModuleRuntime {
    func sendInBackground(_ method: String, _ params: JSON) {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            s.background.insert(s.nextID)
            return s.nextID
        }
        try? write(RPCRequest(id: JSON(id), method: method, params: params).json)
    }

    func write(_ message: JSON) throws {
        let bytes = message.serializedBytes() + [0x0A]
        // Under the lock, so concurrent writers never interleave their lines.
        try state.withLock { s in
            guard s.fd >= 0 else { throw ModuleError("not connected to the daemon at \(socketPath)") }
            try Socket.sendAll(s.fd, bytes)
        }
    }

    /// Connect, replay subscriptions and registrations, read until the daemon goes away; repeat
    /// with exponential backoff (50 ms doubling to 2 s).
    func connectionLoop() {
        var delay = 0.05
        while !state.withLock({ $0.shutdownComplete }) {
            guard let fd = try? Socket.connectUnix(path: socketPath) else {
                Clock.sleep(delay)
                delay = min(delay * 2, 2)
                continue
            }
            delay = 0.05
            let (patterns, methods, logs, count) = state.withLock { s -> ([String], [String], [String: String], Int) in
                s.fd = fd
                s.connections += 1
                return (
                    Array(Set(s.subscriptions.values.flatMap(\.patterns))).sorted(), s.handlers.keys.sorted(), s.logs,
                    s.connections
                )
            }
            if let token { sendInBackground("auth.login", ["token": .string(token)]) }
            if !patterns.isEmpty {
                sendInBackground("bus.subscribe", ["patterns": .array(patterns.map { .string($0) })])
            }
            if !methods.isEmpty || !logs.isEmpty {
                sendInBackground(
                    "rpc.register",
                    ["methods": .array(methods.map { .string($0) }), "logs": .object(logs.mapValues { .string($0) })])
            }
            logger.info(
                count == 1 ? "connected to the daemon" : "reconnected to the daemon", ["socket": .string(socketPath)])
            readUntilClosed(fd)
            let pending = state.withLock { s -> [CheckedContinuation<JSON, any Error>] in
                s.fd = -1
                defer { s.pending = [:] }
                return Array(s.pending.values)
            }
            close(fd)
            for continuation in pending { continuation.resume(throwing: ModuleError("the daemon connection closed")) }
            if !state.withLock({ $0.shuttingDown }) { logger.warning("lost the daemon connection; reconnecting") }
        }
    }

    func readUntilClosed(_ fd: Int32) {
        var framer = LineFramer(maxBytes: 64 << 20)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            framer.append(buffer[0..<n])
            while true {
                guard let line = try? framer.next() else { break }
                dispatch(line)
            }
        }
    }

    func dispatch(_ line: [UInt8]) {
        guard let message = try? JSON.parse(line) else { return }
        if let method = message["method"]?.stringValue {
            switch method {
            case "bus.message":
                guard let bus = BusMessage(message["params"]) else { return }
                let targets = state.withLock { s in
                    s.subscriptions.values.filter { $0.patterns.contains { Topic.matches(bus.topic, pattern: $0) } }
                        .map(\.continuation)
                }
                for continuation in targets { continuation.yield(bus) }
            case "bus.dropped":
                logger.warning(
                    "the daemon dropped bus messages for this module",
                    ["dropped": message["params"]?["dropped"] ?? .null])
            default:
                guard let id = message["id"] else { return }
                serve(method, id: id, params: message["params"])
            }
            return
        }
        guard let id = message["id"]?.intValue else { return }
        let (continuation, wasBackground) = state.withLock { s in
            (s.pending.removeValue(forKey: id), s.background.remove(id) != nil)
        }
        if let error = message["error"] {
            let rpcError = RPCError(
                code: error["code"]?.intValue ?? -32603, message: error["message"]?.stringValue ?? "error",
                data: error["data"])
            if wasBackground { logger.error("the daemon refused a request", ["error": .string(rpcError.message)]) }
            continuation?.resume(throwing: rpcError)
        } else {
            continuation?.resume(returning: message["result"] ?? .null)
        }
    }

    func serve(_ method: String, id: JSON, params: JSON?) {
        let handler = state.withLock { $0.handlers[method] }
        Task { [self] in
            let response: JSON
            guard let handler else {
                try? write(RPCResponse.error(id: id, .methodNotFound(method)))
                return
            }
            do {
                response = RPCResponse.result(id: id, try await handler(params))
            } catch let error as RPCError {
                response = RPCResponse.error(id: id, error)
            } catch {
                response = RPCResponse.error(id: id, .failed("\(error)"))
            }
            try? write(response)
        }
    }
}
