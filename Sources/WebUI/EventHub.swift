import HTTP
import JSON
import SystemKit

/// The dashboards' live feed, on the HTTP server's loop thread: bus events go into a bounded ring
/// with increasing ids and out to every open `/api/v1/events` stream. A client that reconnects
/// with `Last-Event-ID` gets what it missed; one that does not read is dropped by the server past
/// its output bound; a comment every `heartbeat` seconds keeps idle streams open.
public final class EventHub {
    private var ring: EventRing
    private var streams: [ObjectIdentifier: HTTPResponseWriter] = [:]
    private let loop: EventLoop
    private let heartbeat: Double
    /// Ids are `<boot>-<n>`: an id from an earlier web UI process means "send everything you have".
    private let boot = String(Int(Clock.wall() * 1000), radix: 36)

    public init(loop: EventLoop, capacity: Int, heartbeat: Double) {
        self.loop = loop
        self.heartbeat = heartbeat
        ring = EventRing(capacity: capacity)
        scheduleHeartbeat()
    }

    public var streamCount: Int { streams.count }

    /// Sends one bus message to every stream and keeps it for resumes.
    public func publish(topic: String, source: String, ts: Double, data: JSON) {
        let payload: JSON = ["topic": .string(topic), "source": .string(source), "ts": JSON(ts), "data": data]
        let text = payload.serialized()
        let entry = ring.append { id in ServerSentEvent(id: "\(boot)-\(id)", data: text).encoded() }
        for (key, writer) in streams where !writer.write(entry.bytes) { streams.removeValue(forKey: key) }
    }

    /// Opens a stream on `writer`, first replaying what followed `lastEventID`.
    public func attach(_ writer: HTTPResponseWriter, lastEventID: String?) {
        writer.startEventStream()
        guard writer.send(ServerSentEvent(retryMilliseconds: 2000, comment: "superbot events")) else { return }
        var replay: [EventRing.Entry] = []
        if let lastEventID {
            let parts = lastEventID.split(separator: "-")
            if parts.count == 2, parts[0] == boot, let n = Int(parts[1]), let missed = ring.after(n) {
                replay = missed
            } else {
                // Another process's ids, or the ring moved past them: all we have, after a marker.
                writer.send(ServerSentEvent(event: "reset", data: "{\"reason\":\"events were missed\"}"))
                replay = ring.all
            }
        }
        for entry in replay where !writer.write(entry.bytes) { return }
        let key = ObjectIdentifier(writer)
        streams[key] = writer
        writer.onClose = { [weak self] in self?.streams.removeValue(forKey: key) }
    }

    private func scheduleHeartbeat() {
        _ = loop.schedule(after: heartbeat) { [weak self] in
            guard let self else { return }
            let beat = ServerSentEvent.heartbeat().encoded()
            for (key, writer) in streams where !writer.write(beat) { streams.removeValue(forKey: key) }
            scheduleHeartbeat()
        }
    }
}
