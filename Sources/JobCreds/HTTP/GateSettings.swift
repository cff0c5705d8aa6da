/// The request gate's limits. The defaults never throttle a normal SDK, which asks once per
/// refresh window (the AWS CLI about twice per command).
public struct GateSettings: Sendable {
    /// The most bytes of request line plus headers.
    public var maxHeaderBytes: Int = 8192
    /// Requests per second allowed per client address; 0 turns rate limiting off.
    public var ratePerSecond: Double = 200
    /// Requests a client may send at once above the rate.
    public var burst: Int = 400
    /// The most connections open at once.
    public var maxConnections: Int = 256
    /// The most connections open at once from one client address.
    public var maxConnectionsPerClient: Int = 128
    /// Seconds a connection may stay idle (or dribble its request) before it is closed.
    public var idleTimeoutSeconds: Int = 10

    /// Creates settings with the defaults.
    public init() {}
}
