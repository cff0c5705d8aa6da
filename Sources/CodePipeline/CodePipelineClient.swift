import AWSSigning
import HTTPTransport
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Calls `GetJobDetails` and `GetThirdPartyJobDetails` (AWS JSON 1.1, SigV4) and returns only the
/// allowlisted `JobDetails`; and `ListActionTypes`, for what an action type declares secret.
///
/// Throttling, 5xx and network failures are retried with capped exponential backoff and full
/// jitter; a request error never is.
///
/// Thread-safety: a value type; calls may run concurrently.
public struct CodePipelineClient: Sendable {
    private let transport: any HTTPTransport
    private let identity: any CredentialsSource
    private let region: String
    private let endpoint: EndpointURL
    private let clock: any WallClock
    private let uptime: MonotonicClock
    private let retry: RetryPolicy
    private let timeout: Duration
    private let logger: Logger
    private let observer: @Sendable (UpstreamCall) -> Void
    private let skew = ClockSkew()

    /// Creates a client.
    /// - Parameters:
    ///   - identity: the worker's own credentials.
    ///   - clock: the time signatures carry.
    ///   - uptime: the clock attempts' latencies are measured on.
    ///   - observer: told of every HTTP attempt (audit, metrics).
    public init(
        transport: any HTTPTransport, identity: any CredentialsSource, region: String, endpoint: EndpointURL,
        clock: any WallClock = SystemWallClock(), uptime: MonotonicClock = .system, retry: RetryPolicy = RetryPolicy(),
        timeout: Duration = .seconds(10), logger: Logger = Logger(label: "jobcreds.codepipeline"),
        observer: @escaping @Sendable (UpstreamCall) -> Void = { _ in }
    ) {
        self.transport = transport
        self.identity = identity
        self.region = region
        self.endpoint = endpoint
        self.clock = clock
        self.uptime = uptime
        self.retry = retry
        self.timeout = timeout
        self.logger = logger
        self.observer = observer
    }

    /// The same client, telling `observer` of its attempts instead (one job's audit log).
    public func observed(by observer: @escaping @Sendable (UpstreamCall) -> Void) -> CodePipelineClient {
        CodePipelineClient(
            transport: transport, identity: identity, region: region, endpoint: endpoint, clock: clock,
            uptime: uptime, retry: retry, timeout: timeout, logger: logger, observer: observer)
    }

    /// The endpoint in use.
    public var endpointDescription: String { endpoint.description }

    /// Fetches a custom action job.
    /// - Parameter revealing: the configuration properties whose values to keep.
    public func getJobDetails(_ jobId: JobID, revealing: Set<String> = []) async throws(CodePipelineError) -> JobDetails
    {
        let body = try Self.encoded(["jobId": jobId.value])
        return try await call(.getJobDetails, body: body, secrets: []) { (body) throws(CodePipelineError) in
            try JobDetails.decode(body, revealing: revealing)
        }
    }

    /// Fetches a third-party action job with its client token.
    public func getThirdPartyJobDetails(
        _ jobId: JobID, clientToken: ClientToken, revealing: Set<String> = []
    ) async throws(CodePipelineError)
        -> JobDetails
    {
        let body = try Self.encoded(["jobId": jobId.value, "clientToken": clientToken.value])
        return try await call(.getThirdPartyJobDetails, body: body, secrets: [clientToken.value]) {
            (body) throws(CodePipelineError) in try JobDetails.decode(body, revealing: revealing)
        }
    }

    /// Fetches whichever kind of job `jobId` is.
    public func jobDetails(
        _ jobId: JobID, clientToken: ClientToken?, revealing: Set<String> = []
    ) async throws(CodePipelineError) -> JobDetails {
        if let clientToken {
            return try await getThirdPartyJobDetails(jobId, clientToken: clientToken, revealing: revealing)
        }
        return try await getJobDetails(jobId, revealing: revealing)
    }

    /// The most pages of `ListActionTypes` read before giving up.
    public static let actionTypePages = 20

    /// What `id`'s action type declares, from `ListActionTypes` filtered on its owner (every page).
    /// - Throws: `CodePipelineError` with `.invalidRequest` for an owner CodePipeline does not
    ///   list, `.malformedResponse` past `actionTypePages` pages, or the call's own error.
    /// - Returns: nil when no listed type has exactly this id.
    public func actionTypeDeclaration(_ id: ActionTypeID) async throws(CodePipelineError) -> ActionTypeDeclaration? {
        guard ActionTypeID.owners.contains(id.owner) else {
            throw CodePipelineError(.invalidRequest, "the job's action type has an owner ListActionTypes does not take")
        }
        var nextToken: String?
        for _ in 0..<Self.actionTypePages {
            var request = ["actionOwnerFilter": id.owner]
            if let nextToken { request["nextToken"] = nextToken }
            let page = try await call(.listActionTypes, body: try Self.encoded(request), secrets: []) {
                (body) throws(CodePipelineError) in try ActionTypesPage.decode(body)
            }
            if let found = page.declarations.first(where: { $0.id == id }) { return found }
            guard let next = page.nextToken else { return nil }
            nextToken = next
        }
        throw CodePipelineError(.malformedResponse, "ListActionTypes did not end within \(Self.actionTypePages) pages")
    }

    // MARK: - The call

    func call<Answer>(
        _ operation: CodePipelineOperation, body: [UInt8], secrets: [String],
        decode: @escaping @Sendable ([UInt8]) throws(CodePipelineError) -> Answer
    ) async throws(CodePipelineError)
        -> Answer
    {
        try await retry.run(
            shouldRetry: { (error: CodePipelineError) in error.isRetryable },
            onRetry: { error, attempt, delay in
                logger.warning(
                    "CodePipeline call failed; retrying",
                    metadata: [
                        "operation": "\(operation.rawValue)", "attempt": "\(attempt)", "error": "\(error)",
                        "delay_ms": "\(delay.wholeMilliseconds)",
                    ])
            }
        ) { (attempt) throws(CodePipelineError) in
            try await attemptCall(operation, body: body, secrets: secrets, attempt: attempt, decode: decode)
        }
    }

    private func attemptCall<Answer>(
        _ operation: CodePipelineOperation, body: [UInt8], secrets: [String], attempt: Int,
        decode: ([UInt8]) throws(CodePipelineError) -> Answer
    )
        async throws(CodePipelineError) -> Answer
    {
        let credentials: Credentials
        do {
            credentials = try await identity.credentials()
        } catch {
            throw CodePipelineError(
                .identity, "the worker's own AWS credentials are unavailable: \(error)", underlying: error)
        }
        let signer = SigV4Signer(credentials: credentials, region: region, service: "codepipeline")
        let signed = signer.sign(
            SigV4Signer.Request(
                method: "POST", path: endpoint.path, query: endpoint.query,
                headers: [
                    ("Host", endpoint.hostHeader), ("Content-Type", "application/x-amz-json-1.1"),
                    ("X-Amz-Target", "CodePipeline_20150709.\(operation.rawValue)"),
                ], body: body),
            at: clock.now.addingTimeInterval(skew.offset))
        var headers = signed.headers
        headers.remove("Host")  // libcurl writes it from the URL
        let request = HTTPRequest(
            method: "POST", url: endpoint.description, headers: headers, body: body, timeout: timeout)

        let started = uptime.now
        var record = UpstreamCall(operation: operation, attempt: attempt, outcome: .success, latency: .zero)
        defer {
            record.latency = uptime.now - started
            observer(record)
        }
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            let code: CodePipelineError.Code = error.isRetryable ? .network : .transport
            record.outcome = .failed(code)
            throw CodePipelineError(
                code, "cannot reach CodePipeline at \(endpoint.hostHeader): \(error)", underlying: error)
        }
        record.httpStatus = response.status
        record.requestId = response.header("x-amzn-RequestId")
        do {
            return try Self.interpret(response, operation: operation, secrets: secrets, decode: decode)
        } catch
            where error.code == .accessDenied
            && skew.correct(from: response, upstreamCode: error.upstreamCode, now: clock.now)
        {
            record.outcome = .failed(.clockSkew)
            logger.warning(
                "the local clock is off from CodePipeline's; signing with the corrected time",
                metadata: ["offset_seconds": "\(Int(skew.offset))"])
            throw CodePipelineError(
                .clockSkew, "CodePipeline refused the signature for clock skew; corrected by \(Int(skew.offset)) s",
                upstreamCode: error.upstreamCode, httpStatus: response.status, requestId: record.requestId)
        } catch {
            record.outcome = .failed(error.code)
            var error = error
            error.requestId = error.requestId ?? record.requestId
            throw error
        }
    }

    private static func interpret<Answer>(
        _ response: HTTPResponse, operation: CodePipelineOperation, secrets: [String],
        decode: ([UInt8]) throws(CodePipelineError) -> Answer
    ) throws(CodePipelineError) -> Answer {
        guard response.status == 200 else {
            throw CodePipelineError.decode(response, operation: operation, secrets: secrets)
        }
        return try decode(response.body)
    }
}
