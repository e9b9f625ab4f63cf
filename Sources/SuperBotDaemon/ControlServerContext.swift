import JSON
import RPC

/// What the control socket needs from its owner, and no more: where requests go, who a
/// connection is, and what to do when one closes.
protocol ControlServerContext: AnyObject {
    /// Serves one request; `reply` may be called later (a forwarded call, a wait).
    func handle(_ request: RPCRequest, _ connection: Connection, _ reply: @escaping ControlServer.Reply)
    /// A connection answered a request the owner forwarded to it (method routing).
    func routeResponse(_ connection: Connection, _ id: JSON, _ result: Result<JSON, RPCError>)
    func connectionClosed(_ connection: Connection)
    /// Whether `method` may be called before `auth.login`.
    func requiresAuth(_ method: String) -> Bool
    /// The name a connection's messages carry as their source (its module, else its pid).
    func source(of connection: Connection) -> String
}
