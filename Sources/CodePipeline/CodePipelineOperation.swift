/// The CodePipeline operations jobcreds calls: the `X-Amz-Target` suffix, the audit line's
/// `operation` and the metrics' `operation` label.
public enum CodePipelineOperation: String, Sendable, CaseIterable {
    /// A custom action's job.
    case getJobDetails = "GetJobDetails"
    /// A third-party action's job, with its client token.
    case getThirdPartyJobDetails = "GetThirdPartyJobDetails"
    /// The declared action types of one owner (`--expose-configuration`).
    case listActionTypes = "ListActionTypes"
}
