/// A job a poll handed out: its allowlisted details and the nonce that acknowledges it.
public struct PolledJob: Sendable {
    /// What may be handed out about the job.
    public var details: JobDetails
    /// The nonce for `AcknowledgeJob`.
    public var nonce: Nonce

    /// Creates a polled job.
    public init(details: JobDetails, nonce: Nonce) {
        self.details = details
        self.nonce = nonce
    }
}

/// A third-party job a poll named: which client it is for and its id, nothing more
/// (`PollForThirdPartyJobs` returns no data; the details and nonce come with the client token).
public struct ThirdPartyJobReference: Sendable, Equatable {
    /// The client the job is for: the key of the client token map.
    public var clientId: String
    /// The job id.
    public var jobId: String

    /// Creates a reference.
    public init(clientId: String, jobId: String) {
        self.clientId = clientId
        self.jobId = jobId
    }
}
