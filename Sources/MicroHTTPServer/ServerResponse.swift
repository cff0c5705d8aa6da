/// A complete response: status, headers and body, sent as they are.
public struct ServerResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields to add (the server adds `Content-Length` and `Date` itself).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Answers requests. Called on the server's threads, concurrently: it must not block (answer from
/// memory; never wait on the network).
public protocol ServerHandler: Sendable {
    /// The response to `request`.
    func respond(to request: ServerRequest) -> ServerResponse
}
