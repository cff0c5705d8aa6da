/// A connection the server closed before it was served, and why: the handler is told (its
/// `connectionRefused`), since no request reaches it.
public struct ConnectionRefusal: Sendable, Equatable {
    /// Why.
    public enum Reason: String, Sendable, CaseIterable {
        /// Its owner already holds as many connections as one owner may.
        case perClientLimit = "per_client_limit"
        /// Every connection slot open to its owner is taken.
        case connectionLimit = "connection_limit"
        /// It did not complete its request head within the deadline (loopback clients send it in
        /// one packet).
        case noRequestHead = "no_request_head"
    }

    public var reason: Reason
    public var owner: ConnectionOwner
    public var clientAddress: String
    public var clientPort: Int

    public init(reason: Reason, owner: ConnectionOwner, clientAddress: String, clientPort: Int) {
        self.reason = reason
        self.owner = owner
        self.clientAddress = clientAddress
        self.clientPort = clientPort
    }
}
