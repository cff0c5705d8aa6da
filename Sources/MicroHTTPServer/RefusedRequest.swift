/// A request whose head the server refused before libmicrohttpd parsed it (see `RequestHead`):
/// the handler answers it (its `refuse`), as it answers any request, and the server sends that
/// answer and closes the connection.
public struct RefusedRequest: Sendable, Equatable {
    /// Why.
    public enum Reason: String, Sendable, CaseIterable {
        /// Not HTTP/1.x as a client sends it: a bad request line (HTTP/0.9 included), a bare `LF` or
        /// `CR`, a control byte, a folded or nameless header line, a `Content-Length` that is not
        /// digits, a head the client ended half-way.
        case malformed
        /// Over the limit in bytes or in header fields and query arguments.
        case headTooLarge
        /// `HTTP/d.d`, but not 1.0 or 1.1.
        case versionNotSupported

        /// The status that answers it.
        public var status: Int {
            switch self {
            case .malformed: 400
            case .headTooLarge: 431
            case .versionNotSupported: 505
            }
        }
    }

    public var reason: Reason
    /// The request line, if it was complete and well formed (a later line may not be).
    public var line: RequestHead.Line?
    public var owner: ConnectionOwner
    public var clientAddress: String
    public var clientPort: Int

    public init(
        reason: Reason, line: RequestHead.Line?, owner: ConnectionOwner, clientAddress: String, clientPort: Int
    ) {
        self.reason = reason
        self.line = line
        self.owner = owner
        self.clientAddress = clientAddress
        self.clientPort = clientPort
    }
}
