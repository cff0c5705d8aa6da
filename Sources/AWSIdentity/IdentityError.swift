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
    }

    /// The kind of failure.
    public var code: Code
    /// The provider that failed, e.g. `environment`, `web-identity`.
    public var provider: String
    /// A message for an operator.
    public var message: String
    /// Whether trying again may succeed: decided where the failure is seen (an HTTP 503 and an
    /// HTTP 403 are both `unreachable` or `denied`, but only one is worth retrying).
    public var isRetryable: Bool
    /// The error beneath this one, if any (a transport failure).
    public var underlying: (any Error)?

    /// Creates an error.
    public init(
        _ code: Code, provider: String, _ message: String, isRetryable: Bool = false, underlying: (any Error)? = nil
    ) {
        self.code = code
        self.provider = provider
        self.message = message
        self.isRetryable = isRetryable
        self.underlying = underlying
    }

    public var description: String { "\(provider): \(message)" }
}
