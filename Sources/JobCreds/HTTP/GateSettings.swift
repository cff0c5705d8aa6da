/// The request gate's limits. The rate applies to refused requests only: a tool with the token is
/// never throttled, however often it asks (botocore asks on almost every AWS call).
public struct GateSettings: Sendable {
    /// The most bytes of request line plus headers.
    public var maxHeaderBytes: Int = 8192
    /// Refused requests per second allowed per client (the user owning the connecting socket; its
    /// address where that cannot be found) before they are answered 429; 0 turns the limit off.
    public var ratePerSecond: Double = 200
    /// Refused requests a client may send at once above the rate.
    public var burst: Int = 400
    /// The most connections open at once.
    public var maxConnections: Int = 256
    /// The most connections open at once from one client (a user, or an address where the user
    /// cannot be found).
    public var maxConnectionsPerClient: Int = 128
    /// Connections beyond `maxConnections` only the sidecar's own user and root may open: the
    /// health probe's, whatever other users hold.
    public var reservedConnections: Int = 16
    /// How long a new connection has to send its first request head, however slowly it sends
    /// (loopback clients send it in one packet).
    public var requestHeadDeadline: Duration = .seconds(2)
    /// Seconds a connection may stay idle before it is closed.
    public var idleTimeoutSeconds: Int = 10
    /// The only users whose connections are answered (root's always are); nil answers every
    /// user. The worker sets it to each job's build user, so that no other build reaches it.
    public var allowedUsers: Set<UInt32>?

    /// Creates settings with the defaults.
    public init() {}
}
