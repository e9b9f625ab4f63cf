import Glibc
import JSON
import RPC
import SystemKit

/// Writing: replies, bus deliveries into bounded queues, and flushing at the end of a loop turn.
extension ControlServer {
    func send(_ message: JSON, to connection: Connection) {
        enqueue(message.serializedBytes() + [0x0A], to: connection)
    }

    /// Queues bytes for the client; they are written at the end of this loop turn.
    func enqueue(_ bytes: [UInt8], to connection: Connection) {
        guard connection.isOpen else { return }
        connection.outbox += bytes
        if connection.outbox.count > ControlServer.outboxHighWater { queueBoundCheckDue = true }
        if connection.outbox.count > ControlServer.maxOutbox {
            logger.warning("client is not reading its replies; disconnecting", ["connection": JSON(connection.id)])
            closeConnection(connection)
            return
        }
        scheduleFlush(connection)
    }

    /// Hands a bus message to a subscriber: into its socket buffer while that keeps up, else
    /// into its bounded queue, where the oldest messages give way (counted, and reported to it).
    func deliver(_ message: [UInt8], to connection: Connection) {
        guard connection.isOpen else { return }
        if connection.busQueue.isEmpty && connection.outbox.count < ControlServer.outboxHighWater {
            connection.outbox += message
            scheduleFlush(connection)
            return
        }
        queueBoundCheckDue = true
        let dropped = connection.busQueue.push(message)
        if dropped > 0 {
            connection.droppedSinceReport += dropped
            connection.droppedTotal += dropped
            counters.busDropped += dropped
        }
    }

    /// Every client's queued output together stays under `ipc.max_queued_mb`: past it, the
    /// connections holding the most are cut first, each with a log line saying why. Checked once
    /// per loop turn, and only in turns where some client was queued beyond its socket.
    func enforceQueueBound() {
        queueBoundCheckDue = false
        var held = connections.values.map { ($0, $0.outbox.count + $0.busQueue.bytes) }
        var total = held.reduce(0) { $0 + $1.1 }
        guard total > ipc.maxQueuedBytes else { return }
        held.sort { $0.1 > $1.1 }
        for (connection, bytes) in held where total > ipc.maxQueuedBytes {
            total -= bytes
            counters.connectionsCut += 1
            logger.warning(
                "output queued for all clients is over ipc.max_queued_mb; cutting the connection holding the most",
                [
                    "connection": JSON(connection.id), "queued_bytes": JSON(bytes),
                    "limit_bytes": JSON(ipc.maxQueuedBytes), "source": .string(connection.source ?? "client"),
                ])
            closeConnection(connection)
        }
    }

    /// What to wait for on the socket: input unless the peer is done or its work is paused,
    /// output while anything is queued.
    func updateInterest(_ connection: Connection) {
        var events: EventLoop.Events = []
        if !connection.readClosed && !connection.readPaused { events.insert(.readable) }
        if !connection.outbox.isEmpty { events.insert(.writable) }
        loop.modify(connection.fd, events)
    }

    func scheduleFlush(_ connection: Connection) {
        guard !connection.flushScheduled else { return }
        connection.flushScheduled = true
        pendingFlush.append(connection)
    }

    func flushPending() {
        relay?.backend.turnEnded()
        if queueBoundCheckDue { enforceQueueBound() }
        guard !pendingFlush.isEmpty else { return }
        let list = pendingFlush
        pendingFlush = []
        // In the order scheduled: a publisher's replies go out after the messages for its
        // subscribers, so a publisher that waits for replies cannot outrun a subscriber.
        for connection in list {
            connection.flushScheduled = false
            flush(connection)
        }
    }

    func flush(_ connection: Connection) {
        guard connection.isOpen else { return }
        while true {
            var written = 0
            var blocked = false
            while written < connection.outbox.count {
                let n = connection.outbox.withUnsafeBytes {
                    Glibc.send(connection.fd, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    written += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    blocked = true
                    break
                } else {
                    closeConnection(connection)
                    return
                }
            }
            if written == connection.outbox.count {
                connection.outbox.removeAll(
                    keepingCapacity: connection.outbox.capacity <= ControlServer.outboxHighWater * 2)
            } else {
                connection.outbox.removeFirst(written)
            }
            guard !blocked, refillFromQueue(connection) else { break }
        }
        if connection.outbox.isEmpty {
            if connection.closeAfterFlush {
                closeConnection(connection)
            } else {
                updateInterest(connection)
            }
        } else {
            updateInterest(connection)
        }
    }

    /// Moves queued bus messages into the drained socket buffer, led by a `bus.dropped` notice
    /// if messages were lost since the last one. Returns false when there was nothing to move.
    func refillFromQueue(_ connection: Connection) -> Bool {
        guard !connection.busQueue.isEmpty || connection.droppedSinceReport > 0 else { return false }
        if connection.droppedSinceReport > 0 {
            connection.outbox +=
                RPCResponse.notification(
                    "bus.dropped",
                    [
                        "dropped": JSON(connection.droppedSinceReport), "total": JSON(connection.droppedTotal),
                    ]
                ).serializedBytes() + [0x0A]
            connection.droppedSinceReport = 0
        }
        while connection.outbox.count < ControlServer.outboxHighWater, let message = connection.busQueue.pop() {
            connection.outbox += message
        }
        return true
    }
}
