import CryptoPrimitives
import MicroHTTPServer

/// What a listener answers, decided from the request, what the cache holds and the token alone:
/// the audited layer around it adds the gate, the audit line and the metrics.
public protocol Router: Sendable {
    /// The answer to `request` and the decision behind it.
    /// - Parameters:
    ///   - credentials: what the cache holds for this request.
    ///   - token: the token tools must send (listeners without one ignore it).
    func route(_ request: ServerRequest, credentials: CredentialCache.Lookup, token: SecretBytes) -> Routed
}
