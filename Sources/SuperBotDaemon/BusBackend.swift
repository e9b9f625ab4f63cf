/// Where the relay's messages go, and the seam a cross-host backend plugs into. The memory
/// backend (the default) is the control socket itself: it delivers into subscriber connections
/// and has nothing to forward. A Redis bridge delivers the same way and forwards every local
/// publish from `didPublish`; what it receives from Redis goes in through `BusRelay.publish(…, local: false)`,
/// so it is delivered here and not forwarded back.
protocol BusBackend: AnyObject {
    /// Hands one framed `bus.message` line to a local subscriber.
    func deliver(_ message: [UInt8], to connection: Connection)
    /// A message published on this host (every one, whether or not anyone here listens); `data` is its raw JSON text.
    func didPublish(topic: String, data: ArraySlice<UInt8>, source: String)
    /// The end of a loop turn: a backend that forwards hands over the turn's publishes at once.
    func turnEnded()
}

extension ControlServer: BusBackend {
    func didPublish(topic: String, data: ArraySlice<UInt8>, source: String) {}
    func turnEnded() {}
}
