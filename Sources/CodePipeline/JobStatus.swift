/// What `AcknowledgeJob` says of a job (the model's `JobStatus`). Only `inProgress` means the job
/// is this worker's to run.
public enum JobStatus: String, Sendable, CaseIterable, Decodable {
    case created = "Created"
    case queued = "Queued"
    case dispatched = "Dispatched"
    case inProgress = "InProgress"
    case timedOut = "TimedOut"
    case succeeded = "Succeeded"
    case failed = "Failed"
}
