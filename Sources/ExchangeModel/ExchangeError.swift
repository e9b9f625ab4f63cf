/// Why an exchange call failed, and whether trying again can help.
public enum ExchangeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection, or it broke. `requestSent`: the exchange may have acted on it.
    case transport(String, requestSent: Bool)
    case timeout(requestSent: Bool)
    /// 429/418: over the request-weight limit; the exchange said when to come back.
    case rateLimited(retryAfter: Double)
    /// 5xx: the exchange failed; for an order the outcome is unknown.
    case server(status: Int, message: String)
    /// 4xx with Binance's `{"code", "msg"}`: the request itself is wrong; retrying cannot help.
    case rejected(status: Int, code: Int, message: String)
    /// An answer that is not what the API promises (not JSON, missing fields, NaN prices).
    case malformed(String)
    /// Retries ran out; the last error says why. No attempt can have executed (else `unknownOutcome`).
    case exhausted(attempts: Int, last: String)
    /// An order may have executed, and the exchange could not say whether it did (a lost reply,
    /// then retries or the look-up ran out). Never to be booked as rejected: settle it with the
    /// exchange later.
    case unknownOutcome(String)

    /// Worth retrying (for a non-idempotent request only with a client order id).
    public var isTransient: Bool {
        switch self {
        case .transport, .timeout, .rateLimited, .server, .malformed: true
        case .rejected, .exhausted, .unknownOutcome: false
        }
    }

    /// Whether the exchange may have executed the request.
    public var mayHaveExecuted: Bool {
        switch self {
        case .transport(_, let sent), .timeout(let sent): sent
        case .server, .malformed, .unknownOutcome: true
        case .rateLimited, .rejected, .exhausted: false
        }
    }

    public var description: String {
        switch self {
        case .transport(let m, let sent): "connection error\(sent ? " after sending" : ""): \(m)"
        case .timeout(let sent): sent ? "no answer in time" : "could not connect in time"
        case .rateLimited(let s): "rate limited; retry after \(s) s"
        case .server(let status, let m): "exchange error \(status): \(m)"
        case .rejected(let status, let code, let m): "rejected (\(status), code \(code)): \(m)"
        case .malformed(let m): "malformed answer: \(m)"
        case .exhausted(let n, let last): "gave up after \(n) attempts: \(last)"
        case .unknownOutcome(let m): "outcome unknown, to be settled with the exchange: \(m)"
        }
    }
}
