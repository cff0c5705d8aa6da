import AWSSigning

/// A credentials source that always hands out the same credentials: a client's signing seam,
/// without the worker's credential chain behind it.
public struct FixedCredentialsSource: CredentialsSource {
    private let fixed: Credentials

    public init(_ credentials: Credentials) {
        fixed = credentials
    }

    public func credentials() async throws -> Credentials { fixed }
}
