/// A request libmicrohttpd answered on its own, before the handler saw it (a malformed
/// `Content-Length`, a head too large for the connection's buffer): the handler is told (its
/// `requestNotServed`), so that every request that reached a request line is accounted for.
/// Only what libmicrohttpd reports is known: the request target and the status it sent.
public struct UnservedRequest: Sendable, Equatable {
    /// The status libmicrohttpd answered with.
    public var status: Int
    /// The request target as received.
    public var target: String
    public var owner: ConnectionOwner
    public var clientAddress: String
    public var clientPort: Int

    public init(status: Int, target: String, owner: ConnectionOwner, clientAddress: String, clientPort: Int) {
        self.status = status
        self.target = target
        self.owner = owner
        self.clientAddress = clientAddress
        self.clientPort = clientPort
    }
}
