import HTTP
import SystemKit

/// Who may do what: a bearer token for everything but the public pages when one is configured,
/// and state changes only by `POST` from the dashboard's own origin, so another site open in the
/// operator's browser cannot stop an engine.
public struct AccessPolicy: Sendable {
    public let token: [UInt8]?
    /// Answered without a token: the page (which asks for it), liveness.
    public static let publicPaths: Set<String> = ["/", "/health", "/api/v1/ping", "/favicon.ico"]

    public init(token: String?) {
        self.token = token.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    }

    public var requiresToken: Bool { token != nil }

    /// `Authorization: Bearer <token>`, compared in constant time.
    public func authorized(_ request: HTTPRequest) -> Bool {
        guard let token else { return true }
        if Self.publicPaths.contains(request.path) && request.method != "POST" { return true }
        guard let header = request.headers["authorization"], header.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else { return false }
        return ConstantTime.equal(Array(header.dropFirst(7).utf8), token)
    }

    /// Why a state-changing request is refused as cross-site, or nil. Browsers send
    /// `Sec-Fetch-Site` (and `Origin` on POST); a client without either (curl, the CLI) is no browser.
    public static func crossOriginRefusal(_ request: HTTPRequest) -> String? {
        if let site = request.headers["sec-fetch-site"]?.lowercased(), site != "same-origin" && site != "none" {
            return "cross-site request refused (Sec-Fetch-Site: \(site))"
        }
        if let origin = request.headers["origin"] {
            let host = request.headers["host"] ?? ""
            guard origin == "http://\(host)" || origin == "https://\(host)" else {
                return "cross-origin request refused (Origin: \(origin), expected http://\(host))"
            }
        }
        return nil
    }
}
