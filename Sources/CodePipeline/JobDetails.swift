import AWSSigning

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the sidecar may hand out about one job, and nothing else.
///
/// This type is built field by field from an allowlist (see `JobDetails+Decoding.swift`). The
/// action configuration's values (but those asked for by name), the continuation token, the
/// nonce and any key this type does not name never enter it. The artifact credentials redact
/// themselves when printed.
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
    /// The action type the job is for.
    public var actionTypeId: ActionTypeID?
    /// The names of the action's configuration properties, in the document's order; never
    /// their values.
    public var configurationNames: [String]
    /// The values of the configuration properties the decoder was asked to reveal by name
    /// (those the action type declares not secret), and of no other.
    public var configurationValues: [String: String]

    /// Creates job details.
    public init(
        jobId: String, accountId: String?, artifactCredentials: Credentials, inputArtifacts: [Artifact],
        outputArtifacts: [Artifact], encryptionKey: EncryptionKey?, pipelineContext: PipelineContext?,
        actionTypeId: ActionTypeID? = nil, configurationNames: [String] = [],
        configurationValues: [String: String] = [:]
    ) {
        self.jobId = jobId
        self.accountId = accountId
        self.artifactCredentials = artifactCredentials
        self.inputArtifacts = inputArtifacts
        self.outputArtifacts = outputArtifacts
        self.encryptionKey = encryptionKey
        self.pipelineContext = pipelineContext
        self.actionTypeId = actionTypeId
        self.configurationNames = configurationNames
        self.configurationValues = configurationValues
    }
}
