/// One HTTP attempt to CodePipeline, as reported to the client's observer (for the audit log
/// and metrics). Carries nothing secret: no body, no header but the request id.
public struct UpstreamCall: Sendable {
    /// How an attempt ended: `success`, or the code of the error it failed with.
    public enum Outcome: Sendable, Hashable, CaseIterable {
        /// An answer that decoded into job details.
        case success
        /// The attempt failed with this error code.
        case failed(CodePipelineError.Code)

        /// `success` or the error code's name (`throttled`, `network`, ...).
        public var rawValue: String {
            switch self {
            case .success: "success"
            case .failed(let code): code.rawValue
            }
        }

        public static var allCases: [Outcome] { [.success] + CodePipelineError.Code.allCases.map(Outcome.failed) }
    }

    /// The operation called.
    public var operation: CodePipelineOperation
    /// 1 for the first attempt.
    public var attempt: Int
    /// How the attempt ended.
    public var outcome: Outcome
    /// The HTTP status, if an answer arrived.
    public var httpStatus: Int?
    /// How long the attempt took.
    public var latency: Duration
    /// The `x-amzn-RequestId` of the answer.
    public var requestId: String?

    /// Creates a record (the client makes them; tests and other observers may too).
    public init(
        operation: CodePipelineOperation, attempt: Int, outcome: Outcome, httpStatus: Int? = nil, latency: Duration,
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
