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

/// One input or output artifact in S3.
public struct Artifact: Sendable, Equatable {
    /// The artifact's name in the pipeline.
    public var name: String
    /// The source revision, when CodePipeline gives one.
    public var revision: String?
    /// The bucket.
    public var bucket: String
    /// The object key.
    public var key: String

    /// Creates an artifact.
    public init(name: String, revision: String?, bucket: String, key: String) {
        self.name = name
        self.revision = revision
        self.bucket = bucket
        self.key = key
    }

    /// `s3://bucket/key`.
    public var uri: String { "s3://\(bucket)/\(key)" }
}

/// The key output artifacts must be encrypted with.
public struct EncryptionKey: Sendable, Equatable {
    /// The key id or ARN.
    public var id: String
    /// The key type; `KMS`.
    public var type: String

    /// Creates a key reference.
    public init(id: String, type: String) {
        self.id = id
        self.type = type
    }
}

/// Where a job sits: pipeline, stage, action and execution.
public struct PipelineContext: Sendable, Equatable {
    public var pipelineName: String?
    public var stageName: String?
    public var actionName: String?
    public var actionExecutionId: String?
    public var pipelineExecutionId: String?
    public var pipelineArn: String?

    /// Creates a context.
    public init(
        pipelineName: String?, stageName: String?, actionName: String?, actionExecutionId: String?,
        pipelineExecutionId: String?, pipelineArn: String?
    ) {
        self.pipelineName = pipelineName
        self.stageName = stageName
        self.actionName = actionName
        self.actionExecutionId = actionExecutionId
        self.pipelineExecutionId = pipelineExecutionId
        self.pipelineArn = pipelineArn
    }
}
