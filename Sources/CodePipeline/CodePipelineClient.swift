import AWSSigning
import HTTPTransport
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Calls `GetJobDetails` and `GetThirdPartyJobDetails` (AWS JSON 1.1, SigV4) and returns only the
/// allowlisted `JobDetails`.
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

    /// The endpoint in use.
    public var endpointDescription: String { endpoint.description }

    /// Fetches a custom action job.
    public func getJobDetails(_ jobId: JobID) async throws(CodePipelineError) -> JobDetails {
        let body = try Self.json(["jobId": jobId.value])
        return try await call(.getJobDetails, body: body, secrets: [])
    }

    /// Fetches a third-party action job with its client token.
    public func getThirdPartyJobDetails(
        _ jobId: JobID, clientToken: ClientToken
    ) async throws(CodePipelineError)
        -> JobDetails
    {
        let body = try Self.json(["jobId": jobId.value, "clientToken": clientToken.value])
        return try await call(.getThirdPartyJobDetails, body: body, secrets: [clientToken.value])
    }

    /// Fetches whichever kind of job `jobId` is.
    public func jobDetails(_ jobId: JobID, clientToken: ClientToken?) async throws(CodePipelineError) -> JobDetails {
        if let clientToken {
            return try await getThirdPartyJobDetails(jobId, clientToken: clientToken)
        }
        return try await getJobDetails(jobId)
    }

    // MARK: - The call

    private func call(
        _ operation: CodePipelineOperation, body: [UInt8], secrets: [String]
    ) async throws(CodePipelineError)
        -> JobDetails
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
            try await attemptCall(operation, body: body, secrets: secrets, attempt: attempt)
        }
    }

    private func attemptCall(
        _ operation: CodePipelineOperation, body: [UInt8], secrets: [String], attempt: Int
    )
        async throws(CodePipelineError) -> JobDetails
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
            return try Self.interpret(response, secrets: secrets)
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

    private static func interpret(_ response: HTTPResponse, secrets: [String]) throws(CodePipelineError) -> JobDetails {
        guard response.status == 200 else { throw CodePipelineError.decode(response, secrets: secrets) }
        return try JobDetails.decode(response.body)
    }

    private static func json(_ object: [String: String]) throws(CodePipelineError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Array(try encoder.encode(object))
        } catch {
            throw CodePipelineError(.invalidRequest, "cannot encode the request")
        }
    }
}
