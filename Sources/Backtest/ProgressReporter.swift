import Synchronization
import SystemKit

/// Progress of a run: a bar on a terminal (rate, ETA), a plain line every few seconds otherwise,
/// and at most four events a second for the bus. Safe to call from the sweep's threads.
public final class ProgressReporter: Sendable {
    public enum Output: Sendable { case terminal, lines, none }

    let total: Int
    let unit: String
    let output: Output
    let event: (@Sendable (_ done: Int, _ total: Int, _ rate: Double, _ eta: Double) -> Void)?
    private let state: Mutex<(drawn: Double, evented: Double, done: Int)>
    private let started = Clock.monotonic()

    public init(
        total: Int, unit: String, output: Output,
        event: (@Sendable (_ done: Int, _ total: Int, _ rate: Double, _ eta: Double) -> Void)? = nil
    ) {
        self.total = max(1, total)
        self.unit = unit
        self.output = output
        self.event = event
        state = Mutex((0, 0, 0))
    }

    public func update(_ done: Int) {
        let now = Clock.monotonic()
        let (draw, send) = state.withLock { s -> (Bool, Bool) in
            guard done > s.done else { return (false, false) }
            s.done = done
            let interval = output == .terminal ? 0.1 : 2.0
            let draw = output != .none && now - s.drawn >= interval
            let send = event != nil && now - s.evented >= 0.25
            if draw { s.drawn = now }
            if send { s.evented = now }
            return (draw, send)
        }
        guard draw || send else { return }
        let elapsed = max(now - started, 1e-9)
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if send { event?(done, total, rate, eta) }
        if draw { write(done: done, rate: rate, eta: eta, final: false) }
    }

    /// The last line (and a newline after the terminal bar).
    public func finish() {
        let elapsed = max(Clock.monotonic() - started, 1e-9)
        let done = state.withLock { $0.done }
        event?(total, total, Double(total) / elapsed, 0)
        if output != .none { write(done: max(done, total), rate: Double(total) / elapsed, eta: 0, final: true) }
    }

    private func write(done: Int, rate: Double, eta: Double, final: Bool) {
        let fraction = min(1, Double(done) / Double(total))
        let stats = "\(done)/\(total) \(unit), \(ProgressReporter.compact(rate)) \(unit)/s, ETA \(Int(eta.rounded())) s"
        let line: String
        if output == .terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            line = "\r\(bar) \(Int(fraction * 100))% \(stats)\u{1b}[K" + (final ? "\n" : "")
        } else {
            line = "progress: \(Int(fraction * 100))% \(stats)\n"
        }
        try? FileSystem.writeAll(2, Array(line.utf8))
    }

    static func compact(_ x: Double) -> String {
        x >= 1e6 ? "\((x / 1e5).rounded() / 10)M" : x >= 1e3 ? "\((x / 100).rounded() / 10)k" : "\(Int(x))"
    }
}
