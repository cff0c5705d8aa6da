import AWSIdentity
import AWSSigning
import CodePipeline
import HTTPTransport
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Everything needed to call CodePipeline for one job, resolved from settings and environment.
public struct Upstream: Sendable {
    /// The validated job id.
    public let jobId: JobID
    /// The client token of a third-party job.
    public let clientToken: ClientToken?
    /// The region.
    public let region: String
    /// The worker's own identity, cached and refreshed.
    public let identity: RefreshingCredentialProvider
    /// The CodePipeline client.
    public let client: CodePipelineClient

    /// Resolves settings into a ready client. Nothing is sent yet.
    /// - Throws: `JobCredsError` with a message that names the fix.
    public static func resolve(
        _ settings: UpstreamSettings, environment: [String: String], transport: any HTTPTransport,
        clock: any WallClock = SystemWallClock(), retry: RetryPolicy = RetryPolicy(), logger: Logger,
        observer: @escaping @Sendable (UpstreamCall) -> Void = { _ in }
    ) throws(JobCredsError) -> Upstream {
        let kind: JobID.Kind = settings.clientTokenFile == nil ? .custom : .thirdParty
        let jobId: JobID
        let clientToken: ClientToken?
        let clientTokenText = try settings.clientTokenFile.map { (path) throws(JobCredsError) in
            try readClientToken(path)
        }
        do {
            jobId = try JobID(settings.jobId, kind: kind)
            clientToken = try clientTokenText.map { (text) throws(CodePipelineError) in try ClientToken(text) }
        } catch {
            throw JobCredsError(.usage, error.message, underlying: error)
        }
        let (region, identity, client) = try connect(
            settings, environment: environment, transport: transport, clock: clock, retry: retry, logger: logger,
            observer: observer)
        return Upstream(jobId: jobId, clientToken: clientToken, region: region, identity: identity, client: client)
    }

    /// What calls CodePipeline for any job: the region, the worker's own identity (resolved from
    /// `environment`, cached and refreshed) and a client; `settings`' job id and client token
    /// file are not read. Nothing is sent yet.
    /// - Throws: `JobCredsError` with a message that names the fix.
    public static func connect(
        _ settings: UpstreamSettings, environment: [String: String], transport: any HTTPTransport,
        clock: any WallClock = SystemWallClock(), retry: RetryPolicy = RetryPolicy(), logger: Logger,
        observer: @escaping @Sendable (UpstreamCall) -> Void = { _ in }
    ) throws(JobCredsError) -> (region: String, identity: RefreshingCredentialProvider, client: CodePipelineClient) {
        guard let region = CredentialChain.region(flag: settings.region, environment: environment) else {
            throw JobCredsError(.usage, "no region: pass --region or set AWS_REGION")
        }
        let endpoint: EndpointURL
        do {
            endpoint = try CodePipelineEndpoint.resolve(
                flag: settings.endpointURL, environment: environment, region: region, fips: settings.fips)
        } catch {
            throw JobCredsError(.usage, error.message, underlying: error)
        }
        let provider: any CredentialProvider
        do {
            provider = try CredentialChain.resolve(
                environment: environment, region: region, transport: transport, now: clock.now)
        } catch {
            throw JobCredsError(
                error.code == .noCredentials ? .noCredentials : .identity, error.description, underlying: error)
        }
        let identity = RefreshingCredentialProvider(provider, clock: clock, logger: logger)
        let client = CodePipelineClient(
            transport: transport, identity: identity, region: region, endpoint: endpoint, clock: clock, retry: retry,
            timeout: settings.timeout, logger: logger, observer: observer)
        return (region, identity, client)
    }

    /// An upstream for one job on an identity and client already resolved (the worker's, for
    /// each job's sidecar).
    public init(
        jobId: JobID, clientToken: ClientToken?, region: String, identity: RefreshingCredentialProvider,
        client: CodePipelineClient
    ) {
        self.jobId = jobId
        self.clientToken = clientToken
        self.region = region
        self.identity = identity
        self.client = client
    }

    /// Fetches the job's details once.
    /// - Parameter revealing: the configuration properties whose values to decode.
    public func fetch(revealing: Set<String> = []) async throws(CodePipelineError) -> JobDetails {
        try await client.jobDetails(jobId, clientToken: clientToken, revealing: revealing)
    }

    /// The third-party client token, from a file checked as a token file is (`TrustedFile`:
    /// regular, the sidecar's user or root, writable by nobody else); one trailing newline is
    /// dropped.
    private static func readClientToken(_ path: String) throws(JobCredsError) -> String {
        // A secret like the token file, held to the same rule.
        let bytes = try TrustedFile.read(path, rules: .init(what: "the client token file", othersMayRead: false))
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }  // "\r\n" is one Character
        return text
    }
}
