import CodePipeline

/// What the journal keeps of one job: enough to finish it after a restart, and nothing secret
/// (no credentials, client token or configuration value; a result's texts are scrubbed before
/// they get here). The nonce is kept only while the acknowledge is in flight, the one moment a
/// restart needs it: to ask again whether the job is this worker's.
public struct JournalEntry: Codable, Sendable, Equatable {
    /// How far the job got.
    public enum Phase: String, Codable, Sendable {
        /// About to be acknowledged: whether CodePipeline took the acknowledge is not known.
        case acknowledging
        /// Acknowledged; no build started yet.
        case acknowledged
        /// The build was started (its session and user are known).
        case started
        /// The result is known and must reach CodePipeline.
        case finished
    }

    /// The job id.
    public var jobId: String
    /// Whether it is a third-party job (its client token is found again by `clientId`).
    public var thirdParty: Bool
    /// The third-party job's client (never its token).
    public var clientId: String?
    /// How far it got.
    public var phase: Phase
    /// The nonce, while `acknowledging` only.
    public var nonce: String?
    /// The build's session (its process group), once started.
    public var session: Int32?
    /// The build's uid, once started, when it has one of its own.
    public var uid: UInt32?
    /// The result to send, once finished.
    public var result: JobResult?

    /// Creates an entry.
    public init(
        jobId: String, thirdParty: Bool, clientId: String? = nil, phase: Phase, nonce: String? = nil,
        session: Int32? = nil, uid: UInt32? = nil, result: JobResult? = nil
    ) {
        self.nonce = nonce
        self.jobId = jobId
        self.thirdParty = thirdParty
        self.clientId = clientId
        self.phase = phase
        self.session = session
        self.uid = uid
        self.result = result
    }
}
