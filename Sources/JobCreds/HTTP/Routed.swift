import MicroHTTPServer

/// An answer and the decision behind it: what the router (or the gate) returns to the audited
/// layer.
public struct Routed: Sendable {
    /// The response to send.
    public var response: ServerResponse
    /// What the audit line records.
    public var decision: Decision
    /// A multipart call the router admitted, for the audited layer to make (it talks to S3, so
    /// it is not the pure router's to make); its answer replaces this one.
    public var pending: Pending?

    /// A multipart call, the token that asked it and the credentials it runs with.
    public struct Pending: Sendable {
        public var call: MultipartUploads.Call
        public var artifact: String
        public var token: String
        public var snapshot: CredentialSnapshot
    }

    /// Creates an answer.
    public init(_ response: ServerResponse, _ decision: Decision) {
        self.response = response
        self.decision = decision
    }

    /// A refusal: its JSON error body, with the same code as its decision.
    public static func refused(_ status: Int, _ code: DenialCode, _ message: String) -> Routed {
        Routed(JSONResponse.error(status, .refused(code), message), Decision(.refused(code)))
    }

    /// 503 `CredentialsUnavailable` with `Retry-After: 1`: nothing valid is cached, for `reason`.
    public static func credentialsUnavailable(_ reason: String) -> Routed {
        var routed = refused(503, .credentialsUnavailable, reason)
        routed.response.headers.append("Retry-After", "1")
        return routed
    }

    /// 410 `JobEnded`: the job's credentials are served no more.
    public static func jobEnded() -> Routed {
        refused(410, .jobEnded, "the CodePipeline job has ended; its credentials are no longer served")
    }
}
