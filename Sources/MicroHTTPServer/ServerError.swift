/// Why the server could not start.
///
/// The description names the address and the fix; it never contains request data.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// The host is not a literal IPv4 or IPv6 address (nothing is ever resolved).
        case invalidAddress
        /// libmicrohttpd could not bind or start (the port is in use, the address is not on this host).
        case listenFailed
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
