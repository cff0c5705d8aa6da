/// The audit log's vocabulary: every line's `event`. README's audit table lists each one (a test
/// holds them together).
public enum AuditEvent: String, Sendable, CaseIterable {
    /// One request, denied ones included, written before its answer.
    case request
    /// One HTTP attempt to CodePipeline.
    case upstream
    /// The process started: version, settings, identity provider, endpoint.
    case start
    /// The listeners are bound: their addresses.
    case listening
    /// The first credentials were fetched and are served.
    case ready
    /// Fresh credentials replaced the served ones.
    case refresh
    /// A fetch failed; valid credentials stay served.
    case refreshFailed = "refresh_failed"
    /// CodePipeline says the job is over; nothing is served any more.
    case jobEnded = "job_ended"
    /// SIGHUP: the token file was re-read and the audit log reopened.
    case reload
    /// SIGHUP: the token file or the audit log could not be taken up; the current one stays.
    case reloadFailed = "reload_failed"
    /// The process stops: why.
    case stop
    /// A connection closed before any request on it was answered: its owner's connection limit,
    /// no slot left, or no request head by the deadline.
    case connectionRefused = "connection_refused"
    /// The worker took a job: CodePipeline answered its acknowledge with InProgress.
    case jobAcknowledged = "job_acknowledged"
    /// The worker let a job go without running it (another worker has it, it ended, no client
    /// token): why. Nothing is reported for it.
    case jobDropped = "job_dropped"
    /// A job's build was started: its user and process.
    case buildStarted = "build_started"
    /// A job's build ended: its exit status or signal, how long it ran.
    case buildFinished = "build_finished"
    /// `--artifacts stage`: an input artifact was pulled into the workspace before the build.
    case artifactPulled = "artifact_pulled"
    /// `--artifacts stage`: an output artifact was pushed, and S3 said it is stored.
    case artifactPushed = "artifact_pushed"
    /// `--artifacts stage`: an artifact could not be pulled or pushed; the job fails with its type.
    case artifactFailed = "artifact_failed"
    /// A job's result reached CodePipeline (or CodePipeline said the job was over).
    case jobReported = "job_reported"
    /// Sending a job's result failed and will be tried again.
    case reportRetry = "report_retry"
}
