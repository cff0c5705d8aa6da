/// One HTTP attempt to CodePipeline, as reported to the client's observer (for the audit log
/// and metrics). Carries nothing secret: no body, no header but the request id.
public struct UpstreamCall: Sendable {
    /// `GetJobDetails` or `GetThirdPartyJobDetails`.
    public var operation: String
    /// 1 for the first attempt.
    public var attempt: Int
    /// `success`, or the error code (`jobNotFound`, `throttled`, `network`, ...).
    public var outcome: String
    /// The HTTP status, if an answer arrived.
    public var httpStatus: Int?
    /// How long the attempt took.
    public var latency: Duration
    /// The `x-amzn-RequestId` of the answer.
    public var requestId: String?

    /// Creates a record (the client makes them; tests and other observers may too).
    public init(
        operation: String, attempt: Int, outcome: String, httpStatus: Int? = nil, latency: Duration,
        requestId: String? = nil
    ) {
        self.operation = operation
        self.attempt = attempt
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.latency = latency
        self.requestId = requestId
    }
}
