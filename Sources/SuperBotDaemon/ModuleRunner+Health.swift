import Glibc
import JSON
import SuperBotConfig
import Supervision
import SystemKit

/// Health checks: an HTTP probe on its interval, or heartbeats on `module.<name>.heartbeat`.
extension ModuleRunner {
    func startHealthChecks() {
        lastHeartbeat = Clock.monotonic()
        if spec.heartbeatTimeout != nil { scheduleHeartbeatCheck() }
        guard spec.httpCheck != nil else { return }
        scheduleHealthCheck(after: 0.1)
    }

    // MARK: Heartbeat checks

    func heartbeatReceived() {
        guard pid != nil else { return }
        lastHeartbeat = Clock.monotonic()
        if spec.heartbeatTimeout != nil && state == .starting { markHealthy(now: lastHeartbeat) }
    }

    func scheduleHeartbeatCheck() {
        guard let timeout = spec.heartbeatTimeout else { return }
        context.loop.cancel(heartbeatTimer)
        heartbeatTimer = context.loop.schedule(after: max(0.02, timeout / 4)) { [unowned self] in
            self.heartbeatTimer = nil
            guard self.pid != nil, self.state == .starting || self.state == .running else { return }
            let silent = Clock.monotonic() - self.lastHeartbeat
            if silent > timeout {
                self.context.count(.healthCheckFailure)
                self.context.logger.warning(
                    "module missed its heartbeat", ["module": .string(self.name), "silent_seconds": JSON(silent)])
                let why =
                    "no heartbeat on module.\(self.name).heartbeat for \(Int(silent * 10) / 10) s (timeout \(timeout) s)"
                self.fail(why, now: Clock.monotonic())
                return
            }
            self.scheduleHeartbeatCheck()
        }
    }

    func stopHealthChecks() {
        context.loop.cancel(heartbeatTimer)
        heartbeatTimer = nil
        context.loop.cancel(healthTimer)
        healthTimer = nil
        probe?.cancel()
        probe = nil
    }

    func scheduleHealthCheck(after delay: Double) {
        context.loop.cancel(healthTimer)
        healthTimer = context.loop.schedule(after: delay) { [unowned self] in
            self.healthTimer = nil
            self.runHealthCheck()
        }
    }

    func runHealthCheck() {
        guard let check = spec.httpCheck, pid != nil, state == .starting || state == .running else { return }
        probe = HealthProbe(
            loop: context.loop, host: check.host, port: UInt16(check.port), path: check.path, timeout: check.timeout
        ) { [unowned self] result in
            self.probe = nil
            self.healthCheckFinished(result)
        }
    }

    func healthCheckFinished(_ result: Result<Int, HealthProbe.Failure>) {
        guard let check = spec.httpCheck, pid != nil else { return }
        let now = Clock.monotonic()
        switch result {
        case .success(let status):
            healthFailures = 0
            lastHealth = "http \(check.path) ok (\(status))"
            if state == .starting { markHealthy(now: now) }
        case .failure(let failure):
            // While starting, failures only count once the start grace period is over.
            lastHealth = "http \(check.path) failing: \(failure.description)"
            if state == .running || now - lifecycle.since >= spec.startSeconds {
                healthFailures += 1
                context.count(.healthCheckFailure)
                context.logger.warning(
                    "health check failed",
                    ["module": .string(name), "failures": JSON(healthFailures), "error": .string(failure.description)])
            }
            if healthFailures >= check.failures {
                healthFailures = 0
                fail("health check failed \(check.failures) times: \(failure.description)", now: now)
                return
            }
        }
        guard state == .starting || state == .running else { return }
        scheduleHealthCheck(after: state == .starting ? min(0.2, check.interval) : check.interval)
    }
}
