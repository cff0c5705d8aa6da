import MicroHTTPServer

/// What a listener answers, decided from the request, what the cache holds and the tokens alone:
/// the audited layer around it adds the gate, the audit line and the metrics.
public protocol Router: Sendable {
    /// The answer to `request` and the decision behind it.
    /// - Parameters:
    ///   - credentials: what the cache holds for this request.
    ///   - tokens: the tokens tools may send, with their scopes (listeners without tokens ignore them).
    func route(_ request: ServerRequest, credentials: CredentialCache.Lookup, tokens: TokenGrants) -> Routed
}
