import CodePipeline
import JobCreds

/// How a job's run ended, before it becomes the result CodePipeline is sent.
enum BuildOutcome: Sendable {
    /// The build exited 0; what it left in the result directory.
    case succeeded(ResultDirectory.Contents, seconds: Int)
    /// The build exited with a status other than 0.
    case exited(Int32, lastLines: [String])
    /// A signal killed the build.
    case signaled(Int32, lastLines: [String])
    /// The build ran past the build timeout.
    case timedOut(Duration)
    /// The worker was stopped and the drain timeout passed.
    case stopped
    /// The command cannot be run.
    case cannotRun(JobCredsError)
    /// What the build left is wrong (output variables).
    case badResult(JobCredsError)
    /// The job's credentials cannot be had.
    case noCredentials(String)
    /// The worker or its machine failed (the workspace cannot be made).
    case systemUnavailable(String)
    /// `--artifacts stage`: an artifact could not be pulled or pushed, for a reason of this type.
    case artifactFailed(FailureType, String)
}
