import CodePipeline

/// What one fetch of the job's credentials came to, as the refresher reports it to whoever
/// records it (the audit log, the metrics): it holds neither.
public enum RefreshEvent: Sendable {
    /// Credentials were fetched and stored; `first` for the first ones the sidecar serves.
    case stored(CredentialSnapshot, first: Bool)
    /// The fetch failed; valid cached credentials stay served.
    case failed(CodePipelineError)
    /// CodePipeline says the job is over.
    case jobEnded(CodePipelineError)
}
