import AWSIdentity
import CodePipeline
import HTTPTransport
import Logging
import MicroHTTPServer

/// `jobcreds serve`: the server, the cache and the refresher, started and stopped together.
public final class Sidecar: Sendable {
    /// The version written to the audit log.
    public static let version = "0.1.0"

    private let server: MicroHTTPServer
    private let refresher: Task<Void, Never>
    private let audit: AuditLog
    /// The router, for token rotation.
    public let router: SidecarRouter
    /// The cache, for inspection.
    public let cache: CredentialCache
    /// The port actually bound.
    public var port: Int { server.port }

    /// Validates `settings`, makes or reads the token file, opens the audit log, starts serving
    /// and starts fetching. Returns once the server listens (credentials may still be on their way).
    /// - Throws: `JobCredsError` whose message names the fix.
    public init(
        _ settings: ServeSettings, environment: [String: String], transport: any HTTPTransport,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) throws(JobCredsError) {
        let sink = try FileAuditSink(path: settings.auditLog)
        let audit = AuditLog(sink: sink, clock: clock, jobId: settings.upstream.jobId)
        let upstream = try Upstream.resolve(
            settings.upstream, environment: environment, transport: transport, clock: clock, logger: logger,
            observer: { audit.upstream($0) })
        let (token, created) = try TokenFile.loadOrCreate(at: settings.tokenFile, mode: settings.tokenFileMode)
        let cache = CredentialCache()
        let router = SidecarRouter(cache: cache, token: token, audit: audit, clock: clock)
        audit.lifecycle(
            "start",
            [
                ("version", Self.version), ("listen", settings.listen.description), ("token_file", settings.tokenFile),
                ("token_file_created", created ? "true" : "false"), ("identity", upstream.identity.name),
                ("region", upstream.region), ("endpoint", upstream.client.endpointDescription),
                ("credential_lifetime", DurationText.format(settings.credentialLifetime)),
            ])
        do {
            server = try MicroHTTPServer(
                .init(
                    host: settings.listen.host, port: settings.listen.port, threads: settings.threads,
                    connectionLimit: settings.gate.maxConnections,
                    perClientConnectionLimit: settings.gate.maxConnectionsPerClient,
                    idleTimeoutSeconds: settings.gate.idleTimeoutSeconds,
                    connectionMemoryLimit: max(32 * 1024, settings.gate.maxHeaderBytes * 4), maxBodyBytes: 0),
                handler: router)
        } catch {
            audit.lifecycle("stop", [("reason", "listen_failed")])
            throw JobCredsError(.usage, "cannot serve on \(settings.listen): \(error)")
        }
        let bound = ListenAddress(unchecked: settings.listen.host, port: UInt16(server.port))
        router.install(RequestGate(host: settings.listen.host, port: server.port, settings: settings.gate))
        audit.lifecycle("listening", [("address", bound.description)])
        let worker = Refresher(
            fetch: { () throws(CodePipelineError) in try await upstream.fetch() }, cache: cache,
            policy: RefreshPolicy(assumedLifetime: settings.credentialLifetime), clock: clock, audit: audit,
            logger: logger)
        refresher = Task { await worker.run() }
        self.audit = audit
        self.router = router
        self.cache = cache
        logger.info("serving", metadata: ["listen": "\(bound)"])
    }

    /// Stops accepting, lets the requests in hand finish, stops refreshing, and writes the final
    /// audit line.
    public func stop(reason: String) async {
        server.quiesce()
        server.stop()
        refresher.cancel()
        await refresher.value
        audit.lifecycle("stop", [("reason", reason)])
    }
}
