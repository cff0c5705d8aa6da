/// Sends one HTTP request and returns the whole response.
///
/// This is the only way the AWS code reaches the network. The real one is `CurlTransport`;
/// tests fake it with a closure (`ClosureTransport`).
///
/// Thread-safety: implementations must allow concurrent `send` calls.
public protocol HTTPTransport: Sendable {
    /// Sends `request`.
    /// - Returns: the response, whatever its status.
    /// - Throws: `HTTPTransportError` when no response arrived (connection, TLS, timeout, size).
    func send(_ request: HTTPRequest) async throws(HTTPTransportError) -> HTTPResponse
}
