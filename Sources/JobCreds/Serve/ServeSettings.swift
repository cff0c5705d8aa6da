import Glibc

/// Everything `jobcreds serve` is told.
public struct ServeSettings: Sendable {
    /// Which job, region, endpoint.
    public var upstream: UpstreamSettings
    /// Where to listen.
    public var listen: ListenAddress
    /// The token files tools read, each with its scopes; at least one.
    public var tokenFiles: [TokenFileSpec]
    /// The mode a created token file gets.
    public var tokenFileMode: mode_t
    /// The audit log path, `-` for standard output.
    public var auditLog: String
    /// How long artifact credentials are assumed valid when CodePipeline gives no expiry.
    public var credentialLifetime: Duration
    /// Threads answering requests (MHD's epoll pool): one per online core, at most 8.
    public var threads: Int

    /// The online cores, 1 to 8.
    public static var coreCount: Int { min(8, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
    /// The request gate's limits.
    public var gate: GateSettings
    /// Where Prometheus metrics are served; nil (the default) serves none.
    public var metricsListen: ListenAddress?
    /// Where the instance-metadata listener serves; nil (the default) serves none.
    public var imdsListen: ListenAddress?
    /// The longest a presigned artifact URL lives (`--presign-ttl`).
    public var presignLifetime: Duration
    /// `--s3-endpoint-url`: where presigned URLs point instead of the region's S3.
    public var s3EndpointURL: String?
    /// `--expose-configuration`: serve the action's non-secret configuration at `/v1/configuration`.
    public var exposeConfiguration: Bool

    /// The mode a created token file gets unless told otherwise.
    public static let defaultTokenFileMode: mode_t = 0o600
    /// The audit log unless told otherwise: standard output.
    public static let defaultAuditLog = "-"
    /// The assumed credential lifetime unless told otherwise.
    public static let defaultCredentialLifetime: Duration = .seconds(900)

    /// Creates settings.
    public init(
        upstream: UpstreamSettings, listen: ListenAddress, tokenFiles: [TokenFileSpec],
        tokenFileMode: mode_t = ServeSettings.defaultTokenFileMode, auditLog: String = ServeSettings.defaultAuditLog,
        credentialLifetime: Duration = ServeSettings.defaultCredentialLifetime, threads: Int = ServeSettings.coreCount,
        gate: GateSettings = GateSettings(), metricsListen: ListenAddress? = nil, imdsListen: ListenAddress? = nil,
        presignLifetime: Duration = RoutingSettings.defaultPresignLifetime, s3EndpointURL: String? = nil,
        exposeConfiguration: Bool = false
    ) {
        self.upstream = upstream
        self.listen = listen
        self.tokenFiles = tokenFiles
        self.tokenFileMode = tokenFileMode
        self.auditLog = auditLog
        self.credentialLifetime = credentialLifetime
        self.threads = threads
        self.gate = gate
        self.metricsListen = metricsListen
        self.imdsListen = imdsListen
        self.presignLifetime = presignLifetime
        self.s3EndpointURL = s3EndpointURL
        self.exposeConfiguration = exposeConfiguration
    }
}
