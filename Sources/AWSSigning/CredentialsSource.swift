/// Where a client gets the credentials it signs with: one method, so that the caching and
/// refreshing behind it (the worker's credential chain) stays out of the clients that sign.
///
/// Thread-safety: implementations allow concurrent calls.
public protocol CredentialsSource: Sendable {
    /// Credentials valid now.
    /// - Throws: whatever the source fails with; its description must carry no secret.
    func credentials() async throws -> Credentials
}
