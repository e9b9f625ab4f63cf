/// What `superbot-cli` exits with; scripts branch on these.
public enum ExitCode: Int32, Sendable {
    case ok = 0
    /// The daemon refused, or the operation failed.
    case failed = 1
    /// The command line is wrong (nothing was sent).
    case usage = 2
    /// No daemon answers on the socket.
    case notRunning = 3
}
