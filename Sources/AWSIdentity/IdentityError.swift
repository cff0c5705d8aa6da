/// Why the sidecar's own AWS identity could not be resolved.
///
/// The description names the provider, what went wrong and the fix. It never contains a
/// secret access key, a session token or a web identity token.
public struct IdentityError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// No provider in the chain is configured.
        case noCredentials
        /// A provider is configured, but wrongly (partial keys, a bad URI, a missing file).
        case misconfigured
        /// The credentials endpoint could not be reached or broke.
        case unreachable
        /// The endpoint refused (STS rejected the token, the container endpoint said 401/403).
        case denied
        /// The endpoint answered something that is not credentials.
        case malformedResponse
        /// The credentials have expired and could not be refreshed.
        case expired
    }

    /// The kind of failure.
    public var code: Code
    /// The provider that failed, e.g. `environment`, `web-identity`.
    public var provider: String
    /// A message for an operator.
    public var message: String
    /// Whether a retry may succeed.
    public var isTransient: Bool

    /// Creates an error.
    public init(_ code: Code, provider: String, _ message: String, isTransient: Bool = false) {
        self.code = code
        self.provider = provider
        self.message = message
        self.isTransient = isTransient
    }

    public var description: String { "\(provider): \(message)" }
}
