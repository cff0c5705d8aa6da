/// A transport whose behaviour is a closure: for tests and for adapting.
public struct ClosureTransport: HTTPTransport {
    private let body: @Sendable (HTTPRequest) async throws(HTTPTransportError) -> HTTPResponse

    /// Creates a transport answering every request with `body`.
    public init(_ body: @escaping @Sendable (HTTPRequest) async throws(HTTPTransportError) -> HTTPResponse) {
        self.body = body
    }

    public func send(_ request: HTTPRequest) async throws(HTTPTransportError) -> HTTPResponse {
        try await body(request)
    }
}
