import AWSSigning
import CodePipeline
import Foundation

/// Job details with canaries in every secret value.
enum Samples {
    static let canary = "CANARY-7f3a9c"

    static func details(keyId: String = "ASIAARTIFACT", expiration: Date? = nil) -> JobDetails {
        JobDetails(
            jobId: "f4f4ff82-2d11-4b3c-9e2d-0123456789ab", accountId: "123456789012",
            artifactCredentials: Credentials(
                accessKeyId: keyId, secretAccessKey: "secret-\(canary)", sessionToken: "token-\(canary)",
                expiration: expiration),
            inputArtifacts: [Artifact(name: "src", revision: "abc", bucket: "b", key: "in/src.zip")],
            outputArtifacts: [Artifact(name: "out", revision: nil, bucket: "b", key: "out/\"q\".zip")],
            encryptionKey: EncryptionKey(id: "arn:aws:kms:us-east-1:1:key/k", type: "KMS"),
            pipelineContext: PipelineContext(
                pipelineName: "p", stageName: "s", actionName: "a", actionExecutionId: "e", pipelineExecutionId: "x",
                pipelineArn: "arn"))
    }
}
