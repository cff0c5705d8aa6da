/// Why a job failed, as the console shows it (the model's `FailureType`).
public enum FailureType: String, Sendable, CaseIterable, Codable {
    /// The build failed.
    case jobFailed = "JobFailed"
    /// The action's configuration or the build's command is wrong.
    case configurationError = "ConfigurationError"
    /// A permission the job needs is missing.
    case permissionError = "PermissionError"
    /// The revision is no longer the one the job was started for.
    case revisionOutOfSync = "RevisionOutOfSync"
    /// The revision cannot be had.
    case revisionUnavailable = "RevisionUnavailable"
    /// The worker or its machine failed (a full disk, a restart).
    case systemUnavailable = "SystemUnavailable"
}
