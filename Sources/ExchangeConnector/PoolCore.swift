import Dispatch
import ExchangeModel
import Glibc
import HTTP
import Synchronization
import SystemKit

/// Lets the loop thread's closures refer to values created before it started.
final class Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The pool's state; touched only on the loop thread.
final class PoolCore {
    final class Conn {
        let fd: Int32
        var connecting = true
        var job: HTTPConnectionPool.Job?
        var output: [UInt8] = []
        var outputOffset = 0
        var sent = false
        var parser = HTTPParser(.response)
        var idleSince = Clock.monotonic()
        var openedAt = Clock.monotonic()
        var uses = 0
        init(fd: Int32) { self.fd = fd }
    }

    let settings: HTTPConnectionPool.Settings
    let loop: EventLoop
    private var conns: [Int32: Conn] = [:]
    private var idle: [Conn] = []
    private var queue: [HTTPConnectionPool.Job] = []
    private var buffer = [UInt8](repeating: 0, count: 65536)
    private(set) var stats = HTTPConnectionPool.Stats()
    var onStats: (HTTPConnectionPool.Stats) -> Void = { _ in }
    /// Polled by the sweep, so a shutdown whose wake-up was lost still stops the loop.
    var isStopping: () -> Bool = { false }
    private var stopped = false

    init(settings: HTTPConnectionPool.Settings, loop: EventLoop) {
        self.settings = settings
        self.loop = loop
    }

    func start() {
        warm()
        sweep()
    }

    func enqueue(_ jobs: [HTTPConnectionPool.Job]) {
        stats.requests += jobs.count
        queue.append(contentsOf: jobs)
        dispatch()
    }

    func shutdown() {
        stopped = true
        for job in queue {
            job.continuation.resume(
                throwing: ExchangeError.transport("the connection pool is shut down", requestSent: false))
        }
        queue = []
        for conn in Array(conns.values) {
            close(conn, failing: ExchangeError.transport("the connection pool is shut down", requestSent: conn.sent))
        }
    }

    private func dispatch() {
        while !queue.isEmpty {
            if let conn = idle.popLast() {
                conn.uses += 1
                stats.reused += 1
                assign(queue.removeFirst(), to: conn)
            } else if conns.count < settings.maxConnections && conns.values.filter(\.connecting).count < queue.count {
                // A new connection takes the head of the queue once it is up; a failed connect
                // fails a queued request instead, so each pass shrinks the work.
                open()
            } else {
                break
            }
        }
        publishStats()
    }

    private func warm() {
        while !stopped && conns.count < settings.minConnections {
            let before = conns.count
            open()
            if conns.count == before { break }
        }
    }

    private func open() {
        let fd: Int32
        do {
            fd = try Socket.connectTCP(host: settings.host, port: settings.port, nonBlocking: true)
        } catch {
            connectFailed("\(error)")
            return
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let conn = Conn(fd: fd)
        conns[fd] = conn
        stats.opened += 1
        do {
            try loop.register(fd, [.writable, .hangup]) { [unowned self] events in onEvents(conn, events) }
        } catch {
            conns.removeValue(forKey: fd)
            Glibc.close(fd)
            connectFailed("\(error)")
        }
    }

    /// A connect that fails fails the oldest waiting request (the retry layer decides what next),
    /// so a server that is down never leaves callers hanging.
    private func connectFailed(_ message: String) {
        stats.failedConnects += 1
        if !queue.isEmpty {
            queue.removeFirst().continuation.resume(throwing: ExchangeError.transport(message, requestSent: false))
        }
    }

    private func onEvents(_ conn: Conn, _ events: EventLoop.Events) {
        guard conns[conn.fd] === conn else { return }
        if conn.connecting {
            let error = Socket.pendingError(conn.fd)
            guard error == 0, !events.contains(.error) else {
                let message = String(cString: strerror(error == 0 ? ECONNREFUSED : error))
                removeConn(conn)
                connectFailed("connect to \(settings.host):\(settings.port): \(message)")
                dispatch()
                return
            }
            conn.connecting = false
            loop.modify(conn.fd, [.readable, .hangup])
            makeIdle(conn)
            dispatch()
            return
        }
        if events.contains(.writable) { flush(conn) }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) { read(conn) }
    }

    private func assign(_ job: HTTPConnectionPool.Job, to conn: Conn) {
        conn.job = job
        conn.output = job.request
        conn.outputOffset = 0
        conn.sent = false
        conn.parser = HTTPParser(.response)
        flush(conn)
    }

    private func flush(_ conn: Conn) {
        while conn.outputOffset < conn.output.count {
            let n = conn.output.withUnsafeBytes {
                send(conn.fd, $0.baseAddress! + conn.outputOffset, $0.count - conn.outputOffset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                conn.sent = true
                conn.outputOffset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                loop.modify(conn.fd, [.readable, .writable, .hangup])
                return
            }
            let message = String(cString: strerror(errno))
            return close(conn, failing: ExchangeError.transport("send: \(message)", requestSent: conn.sent))
        }
        conn.output = []
        loop.modify(conn.fd, [.readable, .hangup])
    }

    private func read(_ conn: Conn) {
        var eof = false
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(conn.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                conn.parser.append(buffer[0..<n])
                if n < buffer.count { break }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            eof = true
            break
        }
        guard let job = conn.job else {
            // The server closed (or wrote to) an idle connection: it is no longer usable.
            removeConn(conn)
            warm()
            return
        }
        do {
            if let response = try conn.parser.nextResponse(atEOF: eof) {
                conn.job = nil
                job.continuation.resume(returning: response)
                if eof || !response.keepAlive || conn.parser.bufferedCount > 0 {
                    removeConn(conn)
                } else {
                    makeIdle(conn)
                }
                dispatch()
                return
            }
        } catch {
            return close(conn, failing: ExchangeError.malformed("HTTP: \(error.message)"))
        }
        if eof {
            close(
                conn,
                failing: ExchangeError.transport(
                    "the server closed the connection before answering", requestSent: conn.sent))
        }
    }

    private func makeIdle(_ conn: Conn) {
        conn.idleSince = Clock.monotonic()
        idle.append(conn)
    }

    private func close(_ conn: Conn, failing error: ExchangeError) {
        let job = conn.job
        conn.job = nil
        removeConn(conn)
        job?.continuation.resume(throwing: error)
        if !stopped { dispatch() }
    }

    private func removeConn(_ conn: Conn) {
        guard conns.removeValue(forKey: conn.fd) != nil else { return }
        idle.removeAll { $0 === conn }
        loop.unregister(conn.fd)
        Glibc.close(conn.fd)
        stats.closed += 1
        publishStats()
    }

    /// Every 50 ms: time out requests and connects, close connections idle too long, keep `min` open.
    private func sweep() {
        loop.schedule(after: 0.05) { [weak self] in
            guard let self, !stopped else { return }
            if isStopping() {
                shutdown()
                loop.stop()
                return
            }
            let now = Clock.monotonic()
            for conn in Array(conns.values) {
                if let job = conn.job, now > job.deadline {
                    close(conn, failing: .timeout(requestSent: conn.sent))
                } else if conn.connecting, now - conn.openedAt > settings.connectTimeout {
                    removeConn(conn)
                    connectFailed("connect to \(settings.host):\(settings.port) timed out")
                }
            }
            let expired = queue.filter { now > $0.deadline }
            if !expired.isEmpty {
                queue.removeAll { now > $0.deadline }
                for job in expired { job.continuation.resume(throwing: ExchangeError.timeout(requestSent: false)) }
            }
            while conns.count > settings.minConnections, let oldest = idle.first,
                now - oldest.idleSince > settings.idleTimeout
            {
                removeConn(oldest)
            }
            warm()
            dispatch()
            sweep()
        }
    }

    private func publishStats() {
        stats.open = conns.count
        stats.idle = idle.count
        stats.queued = queue.count
        onStats(stats)
    }
}
