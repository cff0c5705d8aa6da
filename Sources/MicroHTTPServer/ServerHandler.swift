/// Answers requests. Called on the server's threads, concurrently: it must not block (answer from
/// memory; never wait on the network).
public protocol ServerHandler: Sendable {
    /// The response to `request`.
    func respond(to request: ServerRequest) -> ServerResponse
}
