import AWSSigning
import CodePipeline
import Foundation
import TestSupport
import Testing

/// The allowlisted projection: what it keeps, and proof that nothing else gets in.
@Suite struct JobDetailsDecodingTests {
    static let canary = "CANARY-7f3a9c"

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Fixtures.text("codepipeline/\(name)").utf8)
    }

    @Test func keepsTheAllowlistedFields() throws {
        let details = try JobDetails.decode(Self.fixture("get-job-details.json"))
        #expect(details.jobId == "f4f4ff82-2d11-4b3c-9e2d-0123456789ab")
        #expect(details.accountId == "123456789012")
        #expect(details.artifactCredentials.accessKeyId == "ASIAFAKEARTIFACT0001")
        #expect(details.artifactCredentials.expiration == nil)
        #expect(
            details.inputArtifacts == [
                Artifact(
                    name: "SourceOutput", revision: "0123456789abcdef0123456789abcdef01234567",
                    bucket: "codepipeline-us-east-1-artifacts", key: "demo/SourceOutput/src.zip")
            ])
        #expect(details.outputArtifacts.first?.uri == "s3://codepipeline-us-east-1-artifacts/demo/BuildOutput/out.zip")
        #expect(
            details.encryptionKey == EncryptionKey(id: "arn:aws:kms:us-east-1:123456789012:key/demo-key", type: "KMS"))
        #expect(details.pipelineContext?.pipelineName == "demo-pipeline")
        #expect(details.pipelineContext?.stageName == "Build")
        #expect(details.pipelineContext?.actionExecutionId == "11111111-2222-3333-4444-555555555555")
        #expect(details.pipelineContext?.pipelineArn == "arn:aws:codepipeline:us-east-1:123456789012:demo-pipeline")
    }

    @Test func thirdPartyJobsCarryExpirationInEpochMilliseconds() throws {
        let details = try JobDetails.decode(Self.fixture("get-third-party-job-details.json"))
        #expect(details.jobId == "partner-job-42")
        #expect(details.accountId == nil)
        #expect(details.artifactCredentials.expiration == Date(timeIntervalSince1970: 1_764_003_600))
    }

    /// Every canary planted in the fixtures (configuration values, continuation token, nonce,
    /// unknown keys, the artifact secret and token) appears in no rendering of the projection.
    /// An expiry out of range is a decode error naming the field, never a value to convert
    /// later (1e22 trapped when rendered; issue 14, finding 1).
    @Test(arguments: ["1e22", "-1e22", "1e300", "-1", "\"10000-01-01T00:00:00Z\"", "\"yesterday\"", "true"])
    func refusesAnExpirationOutOfRange(_ value: String) throws {
        let text = try Fixtures.text("codepipeline/get-third-party-job-details.json")
            .replacingOccurrences(of: "1764003600000", with: value)
        #expect(text.contains(value))
        #expect {
            try JobDetails.decode(Array(text.utf8))
        } throws: { error in
            let error = error as? CodePipelineError
            return error?.code == .malformedResponse
                && error?.message.contains("artifactCredentials.expirationTime") == true
        }
    }

    @Test(arguments: ["get-job-details.json", "get-third-party-job-details.json"])
    func noCanaryInAnyRendering(_ name: String) throws {
        let body = try Self.fixture(name)
        #expect(String(decoding: body, as: UTF8.self).components(separatedBy: Self.canary).count > 6)
        let details = try JobDetails.decode(body)
        var dumped = ""
        dump(details, to: &dumped)
        for text in ["\(details)", String(reflecting: details), dumped, "\(details.artifactCredentials)"] {
            #expect(!text.contains(Self.canary), "\(text)")
            #expect(!text.contains("continuation"))
            #expect(!text.contains("nonce"))
            #expect(!text.contains("config-secret"))
        }
        #expect(details.configurationValues.isEmpty)
        // The secret values are kept (they are what the sidecar serves), but only in their fields.
        #expect(details.artifactCredentials.secretAccessKey.contains(Self.canary))
    }

    /// The projection's reflection lists exactly the allowlisted fields.
    @Test func theProjectionHasOnlyAllowlistedFields() throws {
        let details = try JobDetails.decode(Self.fixture("get-job-details.json"))
        let labels = Set(Mirror(reflecting: details).children.compactMap(\.label))
        #expect(
            labels == [
                "jobId", "accountId", "artifactCredentials", "inputArtifacts", "outputArtifacts", "encryptionKey",
                "pipelineContext", "actionTypeId", "configurationNames", "configurationValues",
            ])
    }

    /// Of the configuration, every name is read, and only the values asked for by name: a value
    /// that is not a string stays unread too.
    @Test func revealsOnlyTheConfigurationValuesAskedForByName() throws {
        let details = try JobDetails.decode(Self.fixture("get-job-details.json"), revealing: ["ProjectName", "Nope"])
        #expect(
            details.actionTypeId
                == ActionTypeID(category: "Build", owner: "Custom", provider: "JobCredsTest", version: "1"))
        #expect(Set(details.configurationNames) == ["ApiKey", "Password", "ProjectName"])
        #expect(details.configurationValues == ["ProjectName": "project-\(Self.canary)"])
        let numeric = """
            {"jobDetails": {"id": "j", "data": {"artifactCredentials": {"accessKeyId": "A", "secretAccessKey": "s",
             "sessionToken": "t"}, "actionConfiguration": {"configuration": {"Count": 3, "Name": "n"}}}}}
            """
        let decoded = try JobDetails.decode(Array(numeric.utf8), revealing: ["Count", "Name"])
        #expect(decoded.configurationValues == ["Name": "n"] && Set(decoded.configurationNames) == ["Count", "Name"])
        #expect(decoded.actionTypeId == nil)
    }

    @Test(arguments: [
        ("not json \(canary)", "not a job document"),
        ("{\"jobDetails\": [\"\(canary)\"]}", "wrong type at jobDetails"),
        ("{\"jobDetails\": {\"id\": \"x\"}}", "has no data"),
        (
            "{\"jobDetails\": {\"id\": \"x\", \"data\": {\"continuationToken\": \"\(canary)\"}}}",
            "no complete artifact credentials"
        ),
        (
            "{\"jobDetails\": {\"id\": \"x\", \"data\": {\"artifactCredentials\": {\"accessKeyId\": \"A\", \"secretAccessKey\": \"\(canary)\"}}}}",
            "no complete artifact credentials"
        ),
        (
            "{\"jobDetails\": {\"id\": \"x\", \"data\": {\"artifactCredentials\": {\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\", \"sessionToken\": \"t\"}, \"inputArtifacts\": [{\"name\": \"\(canary)\"}]}}}",
            "lacks its name or S3 location"
        ),
        (
            "{\"jobDetails\": {\"id\": \"x\", \"data\": {\"artifactCredentials\": {\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\", \"sessionToken\": 7}}}}",
            "wrong type at jobDetails.data.artifactCredentials.sessionToken"
        ),
    ])
    func malformedAnswersAreRefusedWithoutEchoingThem(_ body: String, _ expected: String) {
        #expect {
            _ = try JobDetails.decode(Array(body.utf8))
        } throws: { error in
            guard let error = error as? CodePipelineError else { return false }
            return error.code == .malformedResponse && "\(error)".contains(expected)
                && !"\(error)".contains(Self.canary)
        }
    }
}
