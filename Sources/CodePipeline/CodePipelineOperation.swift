/// The CodePipeline operations jobcreds calls: the `X-Amz-Target` suffix, the audit line's
/// `operation` and the metrics' `operation` label.
public enum CodePipelineOperation: String, Sendable, CaseIterable {
    /// A custom action's job.
    case getJobDetails = "GetJobDetails"
    /// A third-party action's job, with its client token.
    case getThirdPartyJobDetails = "GetThirdPartyJobDetails"
    /// The declared action types of one owner (`--expose-configuration`).
    case listActionTypes = "ListActionTypes"
    /// The worker asks for jobs of its action type.
    case pollForJobs = "PollForJobs"
    /// The worker takes a job.
    case acknowledgeJob = "AcknowledgeJob"
    /// The worker reports a job's success.
    case putJobSuccessResult = "PutJobSuccessResult"
    /// The worker reports a job's failure.
    case putJobFailureResult = "PutJobFailureResult"
    /// The worker asks for third-party jobs.
    case pollForThirdPartyJobs = "PollForThirdPartyJobs"
    /// The worker takes a third-party job.
    case acknowledgeThirdPartyJob = "AcknowledgeThirdPartyJob"
    /// The worker reports a third-party job's success.
    case putThirdPartyJobSuccessResult = "PutThirdPartyJobSuccessResult"
    /// The worker reports a third-party job's failure.
    case putThirdPartyJobFailureResult = "PutThirdPartyJobFailureResult"
}
