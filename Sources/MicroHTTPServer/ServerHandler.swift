/// Answers requests. Called on the server's threads, concurrently: it must not block (answer from
/// memory; never wait on the network).
public protocol ServerHandler: Sendable {
    /// The response to `request`.
    func respond(to request: ServerRequest) -> ServerResponse

    /// A connection the server closed before any request on it was answered (it must not block).
    func connectionRefused(_ refusal: ConnectionRefusal)
}

extension ServerHandler {
    /// By default, nothing.
    public func connectionRefused(_ refusal: ConnectionRefusal) {}
}
