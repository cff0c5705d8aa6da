/// Why a request got no HTTP response.
///
/// The description names what failed and how to fix it. It never contains request headers or
/// bodies, so it can never contain a credential.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// The URL could not be used (unsupported scheme, malformed).
        case invalidURL
        /// The host name did not resolve.
        case dnsFailure
        /// Nothing accepted the connection.
        case connectionRefused
        /// The connection or the whole exchange took longer than allowed.
        case timedOut
        /// The peer's TLS certificate was not trusted, or the handshake failed.
        case tlsFailure
        /// The connection broke before the response was complete.
        case connectionReset
        /// The response was larger than the transport accepts.
        case responseTooLarge
        /// The request's `ResponseSink` stopped the transfer (its reader had what it wanted).
        case stopped
        /// Anything else the HTTP library reported.
        case other
    }

    /// The kind of failure.
    public var code: Code
    /// A message for an operator, free of secrets.
    public var message: String
    /// The error beneath this one, if any.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// Whether trying again may succeed (the SDKs retry these).
    public var isRetryable: Bool {
        switch code {
        case .dnsFailure, .connectionRefused, .timedOut, .connectionReset, .other: true
        case .invalidURL, .tlsFailure, .responseTooLarge, .stopped: false
        }
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
