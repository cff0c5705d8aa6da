import AWSSigning

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the sidecar may hand out about one job, and nothing else.
///
/// This type is built field by field from an allowlist (see `JobDetails+Decoding.swift`). The
/// action configuration, the continuation token, the nonce and any key this type does not name
/// never enter it. The artifact credentials redact themselves when printed.
public struct JobDetails: Sendable, Equatable {
    /// The job id.
    public var jobId: String
    /// The account that owns the pipeline (custom actions only).
    public var accountId: String?
    /// Temporary credentials scoped to the job's artifacts.
    public var artifactCredentials: Credentials
    /// The artifacts the job reads.
    public var inputArtifacts: [Artifact]
    /// The artifacts the job writes.
    public var outputArtifacts: [Artifact]
    /// The KMS key to encrypt uploads with, if the pipeline has one.
    public var encryptionKey: EncryptionKey?
    /// Where the job sits in its pipeline.
    public var pipelineContext: PipelineContext?

    /// Creates job details.
    public init(
        jobId: String, accountId: String?, artifactCredentials: Credentials, inputArtifacts: [Artifact],
        outputArtifacts: [Artifact], encryptionKey: EncryptionKey?, pipelineContext: PipelineContext?
    ) {
        self.jobId = jobId
        self.accountId = accountId
        self.artifactCredentials = artifactCredentials
        self.inputArtifacts = inputArtifacts
        self.outputArtifacts = outputArtifacts
        self.encryptionKey = encryptionKey
        self.pipelineContext = pipelineContext
    }
}
