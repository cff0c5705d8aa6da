/// Why OpenSSL could not do what was asked. The description names the call; it never contains
/// key material.
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// `RAND_bytes` failed: OpenSSL's entropy source could not produce secure bytes.
        case randomUnavailable
    }

    /// The kind of failure.
    public var code: Code
    /// A message for an operator.
    public var message: String
    /// The error beneath this one, if any.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
