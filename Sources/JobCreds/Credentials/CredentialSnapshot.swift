import AWSSigning
import CodePipeline
import CryptoPrimitives

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One fetched job, with its answers rendered once, so a request costs a lookup and a copy.
/// A class: every request takes it out of the cache, and a reference is one retain where a
/// struct of this many fields is a retain per field.
public final class CredentialSnapshot: Sendable {
    /// The allowlisted job details.
    public let details: JobDetails
    /// When CodePipeline answered.
    public let fetchedAt: Date
    /// When the artifact credentials stop working: `expirationTime` if CodePipeline gave one,
    /// else `fetchedAt` plus the assumed lifetime; rounded down to the second, as served.
    public let expiresAt: Date
    /// The last moment the credentials are handed out: a minute before `expiresAt` (a tenth of
    /// their life for credentials shorter than ten minutes), so no tool gets credentials that
    /// expire in its hands.
    public let servableUntil: Date
    /// The `/v1/credentials` body, in the container-credentials format; wiped when released.
    public let credentialsBody: SecretBytes
    /// The `/v1/artifacts` body.
    public let artifactsBody: [UInt8]
    /// The instance-metadata credentials document (`--imds-listen`); wiped when released.
    public let metadataBody: SecretBytes
    /// What `/v1/configuration` answers (`--expose-configuration`).
    public let configuration: ConfigurationAnswer
    /// Its body when available.
    public let configurationBody: [UInt8]

    /// Renders `details` fetched at `fetchedAt`, and `configuration`.
    public init(
        details: JobDetails, fetchedAt: Date, assumedLifetime: Duration,
        configuration: ConfigurationAnswer = .notExposed
    ) {
        self.details = details
        self.configuration = configuration
        configurationBody = configuration.body ?? []
        self.fetchedAt = fetchedAt
        // Whole seconds, as `Expiration` is written: what is served never claims a later time.
        let exact =
            details.artifactCredentials.expiration
            ?? fetchedAt.addingTimeInterval(TimeInterval(assumedLifetime.components.seconds))
        expiresAt = Date(timeIntervalSince1970: exact.timeIntervalSince1970.rounded(.down))
        servableUntil = expiresAt.addingTimeInterval(-min(60, max(0, expiresAt.timeIntervalSince(fetchedAt)) / 10))
        var rendered = Self.renderCredentials(details, expiresAt: expiresAt)
        credentialsBody = SecretBytes(rendered)
        rendered.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        var metadata = Self.renderMetadataCredentials(details, fetchedAt: fetchedAt, expiresAt: expiresAt)
        metadataBody = SecretBytes(metadata)
        metadata.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        artifactsBody = Self.renderArtifacts(details)
    }

    /// `{"AccessKeyId","SecretAccessKey","Token","Expiration","AccountId"?}`: what every SDK's
    /// container provider reads. No `Code` field (the Rust SDK treats one other than `Success` as
    /// an error); `Expiration` in UTC with a `Z`.
    static func renderCredentials(_ details: JobDetails, expiresAt: Date) -> [UInt8] {
        let credentials = details.artifactCredentials
        return Array(
            JSONText.object([
                ("AccessKeyId", JSONText.quote(credentials.accessKeyId)),
                ("SecretAccessKey", JSONText.quote(credentials.secretAccessKey)),
                ("Token", JSONText.quote(credentials.sessionToken ?? "")),
                ("Expiration", JSONText.quote(AWSDate.iso8601(expiresAt))),
                ("AccountId", details.accountId.map(JSONText.quote)),
            ]).utf8)
    }

    /// `{"Code","LastUpdated","Type","AccessKeyId","SecretAccessKey","Token","Expiration"}`: what
    /// the instance metadata service answers for a role, and what the SDKs' instance-profile
    /// providers read.
    static func renderMetadataCredentials(_ details: JobDetails, fetchedAt: Date, expiresAt: Date) -> [UInt8] {
        let credentials = details.artifactCredentials
        return Array(
            JSONText.object([
                ("Code", JSONText.quote("Success")),
                ("LastUpdated", JSONText.quote(AWSDate.iso8601(fetchedAt))),
                ("Type", JSONText.quote("AWS-HMAC")),
                ("AccessKeyId", JSONText.quote(credentials.accessKeyId)),
                ("SecretAccessKey", JSONText.quote(credentials.secretAccessKey)),
                ("Token", JSONText.quote(credentials.sessionToken ?? "")),
                ("Expiration", JSONText.quote(AWSDate.iso8601(expiresAt))),
            ]).utf8)
    }

    /// The job's artifact locations, encryption key and pipeline context; nothing secret.
    static func renderArtifacts(_ details: JobDetails) -> [UInt8] {
        func artifacts(_ list: [Artifact]) -> String {
            "["
                + list.map { artifact in
                    JSONText.object([
                        ("name", JSONText.quote(artifact.name)),
                        ("revision", artifact.revision.map(JSONText.quote)),
                        ("bucket", JSONText.quote(artifact.bucket)),
                        ("key", JSONText.quote(artifact.key)),
                        ("uri", JSONText.quote(artifact.uri)),
                    ])
                }.joined(separator: ",") + "]"
        }
        let context = details.pipelineContext.map { context in
            JSONText.object([
                ("pipelineName", context.pipelineName.map(JSONText.quote)),
                ("stageName", context.stageName.map(JSONText.quote)),
                ("actionName", context.actionName.map(JSONText.quote)),
                ("actionExecutionId", context.actionExecutionId.map(JSONText.quote)),
                ("pipelineExecutionId", context.pipelineExecutionId.map(JSONText.quote)),
                ("pipelineArn", context.pipelineArn.map(JSONText.quote)),
            ])
        }
        let key = details.encryptionKey.map { key in
            JSONText.object([("id", JSONText.quote(key.id)), ("type", JSONText.quote(key.type))])
        }
        return Array(
            JSONText.object([
                ("jobId", JSONText.quote(details.jobId)),
                ("accountId", details.accountId.map(JSONText.quote)),
                ("inputArtifacts", artifacts(details.inputArtifacts)),
                ("outputArtifacts", artifacts(details.outputArtifacts)),
                ("encryptionKey", key),
                ("pipelineContext", context),
            ]).utf8)
    }
}
