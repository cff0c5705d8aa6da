import AWSSigning

/// One source of the sidecar's own credentials.
///
/// Thread-safety: implementations allow concurrent calls.
public protocol CredentialProvider: Sendable {
    /// A short name for logs and `jobcreds check`: `environment`, `profile:NAME`, `web-identity`,
    /// `container`, `instance-metadata`.
    var name: String { get }
    /// Fetches credentials; no caching (see `RefreshingCredentialProvider`).
    func fetch() async throws(IdentityError) -> Credentials
}
