import SystemKit

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass: how tests wait on the
/// outside world with a deadline instead of a fixed sleep.
@discardableResult
public func waitUntil(_ timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Clock.monotonic() + timeout
    while Clock.monotonic() < deadline {
        if condition() { return true }
        Clock.sleep(0.02)
    }
    return condition()
}

/// The same for conditions that await (actors).
public func waitUntil(_ timeout: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = Clock.monotonic() + timeout
    while Clock.monotonic() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
