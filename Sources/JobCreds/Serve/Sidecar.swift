import AWSSigning
import CodePipeline
import Glibc
import HTTPTransport
import Logging
import MicroHTTPServer

/// `jobcreds serve`: the listeners, the cache and the refresher, started and stopped together.
/// The wiring of the audit log and the metrics to what they record is here, in one place.
public final class Sidecar: Sendable {
    private let server: MicroHTTPServer
    private let metricsServer: MicroHTTPServer?
    private let imdsServer: MicroHTTPServer?
    private let refresher: Task<Void, Never>
    private let audit: AuditLog
    private let sink: FileAuditSink
    private let tokenFiles: [TokenFileSpec]
    private let uploads: MultipartUploads?
    private let clock: any WallClock
    /// The credentials listener's handler, for token rotation.
    public let layer: AuditedLayer
    /// The cache, for inspection.
    public let cache: CredentialCache
    /// The port actually bound.
    public var port: Int { server.port }
    /// The metrics listener's bound port, if metrics are served.
    public var metricsPort: Int? { metricsServer?.port }
    /// The instance-metadata listener's bound port, if it serves.
    public var imdsPort: Int? { imdsServer?.port }
    /// The metrics.
    public let metrics: SidecarMetrics

    /// Validates `settings`, makes or reads the token file, opens the audit log, starts serving
    /// and starts fetching. Returns once the server listens (credentials may still be on their way).
    /// - Throws: `JobCredsError` whose message names the fix.
    public convenience init(
        _ settings: ServeSettings, environment: [String: String], transport: any HTTPTransport,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) throws(JobCredsError) {
        try self.init(settings, environment: environment, clock: clock, logger: logger, s3Transport: transport) {
            (observer) throws(JobCredsError) in
            try Upstream.resolve(
                settings.upstream, environment: environment, transport: transport, clock: clock, logger: logger,
                observer: observer)
        }
    }

    /// The same, for a caller that resolves the upstream itself (the worker, one sidecar per
    /// job on its own identity): `upstream` is given the observer that audits and counts each
    /// CodePipeline attempt; `seed`, the job as the caller already has it (a poll's answer), is
    /// served at once, and the first fetch waits until it is due for a refresh.
    public init(
        _ settings: ServeSettings, environment: [String: String], clock: any WallClock = SystemWallClock(),
        logger: Logger, seed: JobDetails? = nil, s3Transport: (any HTTPTransport)? = nil,
        upstream makeUpstream: (@escaping @Sendable (UpstreamCall) -> Void) throws(JobCredsError) -> Upstream
    ) throws(JobCredsError) {
        try ProcessHygiene.apply()
        let metrics = SidecarMetrics()
        let sink = try FileAuditSink(path: settings.auditLog, onTornLineEnded: metrics.auditTornLineEnded)
        let audit = AuditLog(
            sink: sink, clock: clock, jobId: settings.upstream.jobId, onWriteFailure: metrics.auditWriteFailed)
        let upstream = try makeUpstream { call in
            audit.upstream(call)
            metrics.upstream(call)
        }
        let (grants, created) = try Self.loadTokens(settings.tokenFiles, mode: settings.tokenFileMode)
        let cache = CredentialCache()
        let s3 = try S3Endpoint.resolve(
            flag: settings.s3EndpointURL, environment: environment, region: upstream.region)
        let uploads = s3Transport.map {
            MultipartUploads(s3: S3Multipart(endpoint: s3, transport: $0), presignLifetime: settings.presignLifetime)
        }
        let layer = AuditedLayer(
            router: SidecarRouter(settings: RoutingSettings(presignLifetime: settings.presignLifetime, s3: s3)),
            cache: cache, tokens: grants, audit: audit, metrics: metrics, clock: clock, uploads: uploads)
        audit.lifecycle(
            .start,
            [
                ("version", Version.current), ("listen", settings.listen.description),
                ("token_file", settings.tokenFiles.first?.path), ("token_file_created", created ? "true" : "false"),
                ("tokens", Self.describe(settings.tokenFiles)),
                ("identity", upstream.identity.name), ("region", upstream.region),
                ("endpoint", upstream.client.endpointDescription),
                ("credential_lifetime", DurationText.format(settings.credentialLifetime)),
                ("metrics_listen", settings.metricsListen?.description),
                ("imds_listen", settings.imdsListen?.description),
                ("expose_configuration", settings.exposeConfiguration ? "true" : nil),
            ])
        do {
            server = try Self.listen(
                on: settings.listen, threads: settings.threads, gate: settings.gate, handler: layer)
        } catch {
            audit.lifecycle(.stop, [("reason", "listen_failed")])
            throw JobCredsError(.usage, "cannot serve on \(settings.listen): \(error)", underlying: error)
        }
        let bound = ListenAddress(unchecked: settings.listen.host, port: UInt16(server.port))
        layer.install(RequestGate(host: settings.listen.host, port: server.port, settings: settings.gate))
        var imdsBound: ListenAddress?
        if let address = settings.imdsListen {
            let imdsLayer = AuditedLayer(
                router: MetadataRouter(sessions: MetadataSessions(), region: upstream.region), listener: "imds",
                cache: cache, tokens: TokenGrants([]), audit: audit, metrics: metrics, clock: clock)
            do {
                let listener = try Self.listen(on: address, threads: 1, gate: settings.gate, handler: imdsLayer)
                imdsLayer.install(RequestGate(host: address.host, port: listener.port, settings: settings.gate))
                imdsServer = listener
                imdsBound = ListenAddress(unchecked: address.host, port: UInt16(listener.port))
            } catch {
                server.stop()
                audit.lifecycle(.stop, [("reason", "listen_failed")])
                throw JobCredsError(.usage, "cannot serve instance metadata on \(address): \(error)", underlying: error)
            }
        } else {
            imdsServer = nil
        }
        var metricsBound: ListenAddress?
        if let address = settings.metricsListen {
            do {
                let endpoint = MetricsEndpoint(metrics: metrics, cache: cache, clock: clock)
                let listener = try MicroHTTPServer(
                    .init(
                        host: address.host, port: address.port, threads: 1, connectionLimit: 16,
                        perClientConnectionLimit: 8, idleTimeoutSeconds: settings.gate.idleTimeoutSeconds,
                        maxBodyBytes: 0),
                    handler: endpoint)
                metricsServer = listener
                metricsBound = ListenAddress(unchecked: address.host, port: UInt16(listener.port))
            } catch {
                server.stop()
                imdsServer?.stop()
                audit.lifecycle(.stop, [("reason", "listen_failed")])
                throw JobCredsError(.usage, "cannot serve metrics on \(address): \(error)", underlying: error)
            }
        } else {
            metricsServer = nil
        }
        audit.lifecycle(
            .listening,
            [
                ("address", bound.description), ("metrics_address", metricsBound?.description),
                ("imds_address", imdsBound?.description),
            ])
        let configuration =
            settings.exposeConfiguration
            ? ConfigurationLookup(
                fetchJob: { (revealing) throws(CodePipelineError) in try await upstream.fetch(revealing: revealing) },
                declare: { (id) throws(CodePipelineError) in try await upstream.client.actionTypeDeclaration(id) },
                logger: logger) : nil
        var seeded = false
        if let seed {
            let snapshot = CredentialSnapshot(
                details: seed, fetchedAt: clock.now, assumedLifetime: settings.credentialLifetime)
            if snapshot.servableUntil > clock.now {
                seeded = true
                cache.store(snapshot)
                metrics.refresh(.stored(snapshot, first: true))
                audit.refresh(.stored(snapshot, first: true))
            }
        }
        let worker = Refresher(
            fetch: { () throws(CodePipelineError) in
                if let configuration { return try await configuration.fetch() }
                return Fetched(details: try await upstream.fetch())
            }, cache: cache,
            policy: RefreshPolicy(assumedLifetime: settings.credentialLifetime), clock: clock,
            observer: { event in
                metrics.refresh(event)
                audit.refresh(event)
            }, logger: logger)
        refresher = Task { await worker.run(seeded: seeded) }
        self.audit = audit
        self.sink = sink
        self.tokenFiles = settings.tokenFiles
        self.layer = layer
        self.uploads = uploads
        self.clock = clock
        self.cache = cache
        self.metrics = metrics
        logger.info("serving", metadata: ["listen": "\(bound)"])
    }

    /// SIGHUP: re-reads every token file (rotation without a restart) and reopens the audit log
    /// (logrotate). If any token file became invalid, it is refused and the current tokens kept.
    public func reload() {
        do {
            try sink.reopen()
        } catch {
            audit.lifecycle(.reloadFailed, [("what", "audit_log"), ("message", error.message)])
        }
        do {
            layer.replaceTokens(try Self.readTokens(tokenFiles))
            audit.lifecycle(
                .reload,
                [
                    ("token_file", tokenFiles.first?.path), ("tokens", Self.describe(tokenFiles)),
                    ("audit_log", sink.path),
                ])
        } catch {
            audit.lifecycle(.reloadFailed, [("what", "token_file"), ("message", error.message)])
        }
    }

    /// Stops accepting, lets the requests in hand finish, stops refreshing, and writes the final
    /// audit line.
    public func stop(reason: String) async {
        server.quiesce()
        imdsServer?.quiesce()
        server.stop()
        imdsServer?.stop()
        metricsServer?.stop()
        // Parts are billed until an upload is completed or aborted: none outlives the sidecar.
        var aborted = 0
        if let uploads, uploads.openCount > 0, let snapshot = cache.current.snapshot {
            aborted = await uploads.abortAll(credentials: snapshot.details.artifactCredentials, now: clock.now)
        }
        refresher.cancel()
        await refresher.value
        audit.lifecycle(.stop, [("reason", reason)], numbers: aborted > 0 ? [("uploads_aborted", aborted)] : [])
    }

    /// A listener for the build's requests, with the gate's connection and head limits (the
    /// server's accept loop refuses a head over them, or malformed, as JSON through the layer).
    private static func listen(
        on address: ListenAddress, threads: Int, gate: GateSettings, handler: AuditedLayer
    ) throws(ServerError) -> MicroHTTPServer {
        try MicroHTTPServer(
            .init(
                host: address.host, port: address.port, threads: threads, connectionLimit: gate.maxConnections,
                perClientConnectionLimit: gate.maxConnectionsPerClient, reservedConnections: gate.reservedConnections,
                requestHeadDeadline: gate.requestHeadDeadline, idleTimeoutSeconds: gate.idleTimeoutSeconds,
                headLimits: .init(bytes: gate.maxHeaderBytes, fields: 64), maxBodyBytes: 0, keepsEscapes: true),
            handler: handler)
    }

    /// Makes or reads every token file. Returns whether the first was created.
    /// - Throws: `JobCredsError.usage` for a bad file, two files of one name (their audit labels
    ///   would be the same), or two files holding one token.
    private static func loadTokens(
        _ specs: [TokenFileSpec], mode: mode_t
    ) throws(JobCredsError) -> (TokenGrants, created: Bool) {
        var grants: [TokenGrant] = []
        var firstCreated = false
        for (index, spec) in specs.enumerated() {
            let (token, created) = try TokenFile.loadOrCreate(at: spec.path, mode: mode)
            if index == 0 { firstCreated = created }
            grants.append(TokenGrant(label: spec.label, scopes: spec.scopes, token: token))
        }
        return (try distinct(grants, specs), firstCreated)
    }

    /// Reads every existing token file again (SIGHUP).
    private static func readTokens(_ specs: [TokenFileSpec]) throws(JobCredsError) -> TokenGrants {
        var grants: [TokenGrant] = []
        for spec in specs {
            grants.append(TokenGrant(label: spec.label, scopes: spec.scopes, token: try TokenFile.read(at: spec.path)))
        }
        return try distinct(grants, specs)
    }

    private static func distinct(_ grants: [TokenGrant], _ specs: [TokenFileSpec]) throws(JobCredsError) -> TokenGrants
    {
        for (index, grant) in grants.enumerated() {
            for (other, earlier) in grants[..<index].enumerated() {
                if earlier.label == grant.label {
                    throw JobCredsError(
                        .usage,
                        "the token files \(specs[other].path) and \(specs[index].path) have one name, \(grant.label), "
                            + "by which the audit log would name both: rename one")
                }
                if earlier.secret.withUnsafeBytes({ grant.secret.equals($0) }) {
                    throw JobCredsError(
                        .usage,
                        "the token files \(specs[other].path) and \(specs[index].path) hold the same token: each needs "
                            + "its own (delete one to have a fresh one made)")
                }
            }
        }
        return TokenGrants(grants)
    }

    /// `label:scope,scope label:scope` for the audit log: names, never values.
    private static func describe(_ specs: [TokenFileSpec]) -> String {
        specs.map { "\($0.label):\($0.scopes.sorted().map(\.rawValue).joined(separator: ","))" }.joined(separator: " ")
    }
}
