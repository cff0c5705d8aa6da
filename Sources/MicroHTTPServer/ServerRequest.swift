/// One HTTP request as the server hands it to a handler: everything is already read.
public struct ServerRequest: Sendable {
    /// The method, as sent (`GET`, `HEAD`, ...).
    public var method: String
    /// The path, without the query string.
    public var path: String
    /// The HTTP version, e.g. `HTTP/1.1`.
    public var version: String
    /// Every header field, in the order received (repeated names are kept).
    public var headers: [(name: String, value: String)]
    /// The client's address, e.g. `127.0.0.1` or `::1`.
    public var clientAddress: String
    /// The client's port.
    public var clientPort: Int
    /// The body length the request declares (`Content-Length`); -1 for a chunked body or a
    /// malformed or conflicting length; 0 for none. Bodies are never handed over.
    public var bodyLength: Int

    /// Creates a request (for tests; the server builds its own).
    public init(
        method: String, path: String, version: String = "HTTP/1.1", headers: [(name: String, value: String)] = [],
        clientAddress: String = "127.0.0.1", clientPort: Int = 40000, bodyLength: Int = 0
    ) {
        self.method = method
        self.path = path
        self.version = version
        self.headers = headers
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.bodyLength = bodyLength
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every value of the headers named `name` (case-insensitive).
    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }
}

extension String {
    /// ASCII case-insensitive equality, without allocating.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var left = utf8.makeIterator()
        var right = other.utf8.makeIterator()
        while let a = left.next(), let b = right.next() {
            guard a == b || (a ^ 0x20 == b && (a | 0x20) >= UInt8(ascii: "a") && (a | 0x20) <= UInt8(ascii: "z")) else {
                return false
            }
        }
        return true
    }
}
