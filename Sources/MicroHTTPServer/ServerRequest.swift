import HTTPCore

/// One HTTP request as the server hands it to a handler: everything is already read.
public struct ServerRequest: Sendable {
    /// The method, as sent (`GET`, `HEAD`, ...).
    public var method: String
    /// The path, without the query string.
    public var path: String
    /// The HTTP version, e.g. `HTTP/1.1`.
    public var version: String
    /// Every header field, in the order received (repeated names are kept).
    public var headers: HTTPHeaders
    /// The query's arguments, in order (repeated names are kept); as sent when the server keeps
    /// escapes, else decoded.
    public var query: [QueryItem]
    /// The client's address, e.g. `127.0.0.1` or `::1`.
    public var clientAddress: String
    /// The client's port.
    public var clientPort: Int
    /// Who holds the connection: the user owning the peer's socket, or its address where that
    /// cannot be found.
    public var clientOwner: ConnectionOwner
    /// The body length the request declares (`Content-Length`); -1 for a chunked body or a
    /// malformed or conflicting length; 0 for none. Bodies are never handed over.
    public var bodyLength: Int

    /// Creates a request (for tests; the server builds its own).
    public init(
        method: String, path: String, version: String = "HTTP/1.1", headers: HTTPHeaders = [], query: [QueryItem] = [],
        clientAddress: String = "127.0.0.1", clientPort: Int = 40000, clientOwner: ConnectionOwner? = nil,
        bodyLength: Int = 0
    ) {
        self.method = method
        self.path = path
        self.version = version
        self.headers = headers
        self.query = query
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.clientOwner = clientOwner ?? .address(clientAddress)
        self.bodyLength = bodyLength
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers[name]
    }

    /// Every value of the headers named `name` (case-insensitive).
    public func headerValues(_ name: String) -> [String] {
        headers.values(name)
    }
}
