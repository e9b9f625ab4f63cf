/// The states of DESIGN.md. `crashed` is visible only when auto-restart is off; otherwise a crash
/// passes straight through to `backoff` (or `fatal`).
public enum ModuleState: String, Sendable, CaseIterable {
    case stopped, starting, running, stopping, backoff, crashed, fatal

    /// States in which a process of the module may exist.
    public var hasProcess: Bool { self == .starting || self == .running || self == .stopping }
}
