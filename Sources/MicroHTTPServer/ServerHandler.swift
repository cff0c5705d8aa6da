/// Answers requests. Called on the server's threads, concurrently: it must not block (answer from
/// memory; never wait on the network).
public protocol ServerHandler: Sendable {
    /// The response to `request`.
    func respond(to request: ServerRequest) -> ServerResponse

    /// The answer to a request whose head the server refused before parsing it (see
    /// `RequestHead`); the server sends it and closes the connection. It must not block.
    func refuse(_ request: RefusedRequest) -> ServerResponse

    /// A connection the server closed before any request on it was answered (it must not block).
    func connectionRefused(_ refusal: ConnectionRefusal)

    /// A request libmicrohttpd answered on its own, never handed to `respond` (it must not block).
    /// The accept loop lets through only heads libmicrohttpd parses without refusing: this is the
    /// record that it did anyway.
    func requestNotServed(_ request: UnservedRequest)
}

extension ServerHandler {
    /// By default, nothing.
    public func connectionRefused(_ refusal: ConnectionRefusal) {}

    /// By default, nothing.
    public func requestNotServed(_ request: UnservedRequest) {}
}
