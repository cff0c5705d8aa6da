import CodePipeline

/// A job this worker acknowledged and now owns: run it, then report it, once.
public struct TakenJob: Sendable {
    /// The validated id.
    public var id: JobID
    /// The allowlisted details from the poll (or the third-party details call).
    public var details: JobDetails
    /// The third-party job's client token, and its client.
    public var clientToken: ClientToken?
    public var clientId: String?

    /// Creates a taken job.
    public init(id: JobID, details: JobDetails, clientToken: ClientToken? = nil, clientId: String? = nil) {
        self.id = id
        self.details = details
        self.clientToken = clientToken
        self.clientId = clientId
    }
}
