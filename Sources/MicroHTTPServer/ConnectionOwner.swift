internal import CMicroHTTPDShims

/// Who is at the other end of a connection, as far as this host can tell: the user that owns the
/// connecting socket (on loopback every peer is a process on this host, or in this pod, and the
/// kernel knows its user), or, where that cannot be found, only the client's address.
public enum ConnectionOwner: Hashable, Sendable {
    /// The user id owning the peer's socket.
    case user(UInt32)
    /// The lookup was impossible (a peer in another network namespace, sock_diag unavailable):
    /// the client's address stands in.
    case address(String)

    /// The user id, when known.
    public var uid: UInt32? {
        if case .user(let uid) = self { return uid }
        return nil
    }
}

extension ConnectionOwner {
    /// The user owning the socket at the other end of the TCP connection on `descriptor`, asked of
    /// the kernel on the sock_diag socket `diag`; nil where that cannot be found.
    static func of(_ descriptor: Int32, diag: Int32) -> ConnectionOwner? {
        var uid: UInt32 = 0
        return CMicroHTTPDShims_peer_uid(diag, descriptor, &uid) == 0 ? .user(uid) : nil
    }
}
