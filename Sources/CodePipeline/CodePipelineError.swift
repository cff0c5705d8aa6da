/// Why a CodePipeline call failed.
///
/// The description helps an operator and can never contain a secret: upstream text is never
/// copied into it except, for identity errors, a cleaned and shortened message from which the
/// client token has been removed (AWS's access-denied messages name the missing permission).
public struct CodePipelineError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, CaseIterable {
        /// The job id is not of the right form; nothing was sent.
        case invalidJobId
        /// The client token is not of the right form; nothing was sent.
        case invalidClientToken
        /// CodePipeline does not know the job (`JobNotFoundException`).
        case jobNotFound
        /// The third-party job is not in a state to be worked on (`InvalidJobException`).
        case invalidJob
        /// The nonce is not the job's current one: another worker took it (`InvalidNonceException`).
        case invalidNonce
        /// The job is not in progress, so it takes no result (`InvalidJobStateException`).
        case invalidJobState
        /// The output variables are over CodePipeline's quota (`OutputVariablesSizeExceededException`).
        case outputVariablesTooLarge
        /// No such action type (`ActionTypeNotFoundException`).
        case actionTypeNotFound
        /// The client token does not match the job (`InvalidClientTokenException`).
        case clientTokenRejected
        /// The worker identity may not call the operation, or its signature was refused.
        case accessDenied
        /// The signature was refused for a clock off by minutes; the offset was taken from the
        /// answer's `Date` and the call is retried.
        case clockSkew
        /// CodePipeline throttled the calls and the retries ran out.
        case throttled
        /// CodePipeline failed (5xx) and the retries ran out.
        case unavailable
        /// CodePipeline says the request is invalid (`ValidationException`).
        case invalidRequest
        /// The network failed and the retries ran out.
        case network
        /// The exchange failed in a way a retry cannot mend (TLS trust, a bad URL, an oversized answer).
        case transport
        /// The answer is not a job document (garbage, truncated, the wrong shape, no credentials).
        case malformedResponse
        /// The worker's own credentials could not be found or fetched.
        case identity
        /// Anything else CodePipeline answered.
        case unknown
    }

    /// The kind of failure.
    public var code: Code
    /// A message for an operator.
    public var message: String
    /// The upstream error code (`__type` without namespace), cleaned; nil when not from upstream.
    public var upstreamCode: String?
    /// The HTTP status, when the failure is an HTTP answer.
    public var httpStatus: Int?
    /// The AWS request id of the failed call, for support cases.
    public var requestId: String?
    /// The error beneath this one, if any (a transport or identity failure).
    public var underlying: (any Error)?

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, upstreamCode: String? = nil, httpStatus: Int? = nil, requestId: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.upstreamCode = upstreamCode
        self.httpStatus = httpStatus
        self.requestId = requestId
        self.underlying = underlying
    }

    /// Whether the job is over: CodePipeline no longer hands out anything for it.
    public var jobEnded: Bool { code == .jobNotFound || code == .invalidJob }

    /// Whether the SDKs would retry the call.
    public var isRetryable: Bool {
        code == .throttled || code == .unavailable || code == .network || code == .clockSkew
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let requestId { text += " (request id \(requestId))" }
        return text
    }
}
