import Glibc
import SystemKit

/// One HTTP GET health check, non-blocking on the daemon's loop: connect, send, read the status
/// line, done. A 2xx or 3xx answer passes; anything else, a refusal or the timeout fails.
final class HealthProbe {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let loop: EventLoop
    private var fd: Int32 = -1
    private var timer: EventLoop.TimerID?
    private var response: [UInt8] = []
    private var sent = false
    private let request: [UInt8]
    private var completion: ((Result<Int, Failure>) -> Void)?
    private let target: String

    init(
        loop: EventLoop, host: String, port: UInt16, path: String, timeout: Double,
        completion: @escaping (Result<Int, Failure>) -> Void
    ) {
        self.loop = loop
        self.completion = completion
        self.target = "http://\(host):\(port)\(path)"
        self.request = Array(
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: superbot-watchdog\r\nConnection: close\r\n\r\n"
                .utf8)
        do {
            fd = try Socket.connectTCP(host: host, port: port, nonBlocking: true)
            try loop.register(fd, .writable) { [unowned self] events in self.handle(events) }
        } catch {
            // Report on the next turn, never re-entrantly from the caller's stack.
            loop.schedule(after: 0) { [self] in finish(.failure(Failure(description: "\(target): \(error)"))) }
            return
        }
        timer = loop.schedule(after: timeout) { [unowned self] in
            self.timer = nil
            self.finish(.failure(Failure(description: "\(self.target): no answer within \(timeout) s")))
        }
    }

    func cancel() {
        completion = nil
        finish(.failure(Failure(description: "cancelled")))
    }

    private func handle(_ events: EventLoop.Events) {
        if !sent {
            let err = Socket.pendingError(fd)
            if err != 0 {
                finish(.failure(Failure(description: "\(target): \(String(cString: strerror(err)))")))
                return
            }
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n == request.count else {
                finish(.failure(Failure(description: "\(target): could not send the request")))
                return
            }
            sent = true
            loop.modify(fd, .readable)
            return
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
        if n > 0 { response += buffer[0..<n] }
        if let end = response.firstIndex(of: 0x0D) {
            let line = String(decoding: response[..<end], as: UTF8.self)
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
                finish(.failure(Failure(description: "\(target): malformed status line '\(line.prefix(80))'")))
                return
            }
            finish(code < 400 ? .success(code) : .failure(Failure(description: "\(target) answered \(code)")))
        } else if n <= 0 {
            finish(.failure(Failure(description: "\(target): connection closed without an HTTP status line")))
        } else if response.count > 4096 {
            finish(.failure(Failure(description: "\(target): status line too long")))
        }
    }

    private func finish(_ result: Result<Int, Failure>) {
        loop.cancel(timer)
        timer = nil
        if fd >= 0 {
            loop.unregister(fd)
            close(fd)
            fd = -1
        }
        let done = completion
        completion = nil
        done?(result)
    }
}
