import AWSSigning

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The allowlist: wire types that name only the fields jobcreds may hand out. `JSONDecoder`
/// skips every other key, so the continuation token and the nonce are never copied out of the
/// response body, and of the configuration only the names and the values asked for by name.
extension JobDetails {
    /// Decodes a `GetJobDetails` or `GetThirdPartyJobDetails` answer.
    /// - Parameter revealing: the configuration properties whose values to keep (those the
    ///   action type declares not secret); no other value is decoded.
    /// - Throws: `CodePipelineError.malformedResponse` naming the schema path that failed (never
    ///   a value from the document).
    public static func decode(_ body: [UInt8], revealing: Set<String> = []) throws(CodePipelineError) -> JobDetails {
        let envelope = try decodeWire(Wire.Envelope.self, from: body, revealing: revealing, what: "a job document")
        return try projected(
            id: envelope.jobDetails.id, accountId: envelope.jobDetails.accountId,
            data: envelope.jobDetails.data)
    }

    /// Decodes `body` as `Answer` (a wire shape of this file), revealing the configuration values
    /// named in `revealing` and no other.
    /// - Throws: `CodePipelineError.malformedResponse` naming the schema path that failed.
    static func decodeWire<Answer: Decodable>(
        _ type: Answer.Type, from body: [UInt8], revealing: Set<String>, what: String
    ) throws(CodePipelineError) -> Answer {
        do {
            let decoder = JSONDecoder()
            if let key = Wire.Configuration.revealing { decoder.userInfo[key] = revealing }
            return try decoder.decode(Answer.self, from: Data(body))
        } catch let error as DecodingError {
            throw CodePipelineError(.malformedResponse, "the answer is not \(what) (\(Self.describe(error)))")
        } catch {
            throw CodePipelineError(.malformedResponse, "the answer is not \(what)")
        }
    }

    /// One job's allowlisted details from its wire fields.
    static func projected(id: String, accountId: String?, data: Wire.JobData?) throws(CodePipelineError) -> JobDetails {
        guard let data else {
            throw CodePipelineError(.malformedResponse, "the job document has no data")
        }
        guard let wireCredentials = data.artifactCredentials, let keyId = wireCredentials.accessKeyId,
            !keyId.isEmpty, let secret = wireCredentials.secretAccessKey, !secret.isEmpty,
            let token = wireCredentials.sessionToken, !token.isEmpty
        else {
            throw CodePipelineError(.malformedResponse, "the job document carries no complete artifact credentials")
        }
        let credentials = Credentials(
            accessKeyId: keyId, secretAccessKey: secret, sessionToken: token,
            expiration: wireCredentials.expirationTime?.date)
        let configuration = data.actionConfiguration?.configuration
        return JobDetails(
            jobId: id,
            accountId: accountId,
            artifactCredentials: credentials,
            inputArtifacts: try (data.inputArtifacts ?? []).map { (artifact) throws(CodePipelineError) in
                try artifact.projected()
            },
            outputArtifacts: try (data.outputArtifacts ?? []).map { (artifact) throws(CodePipelineError) in
                try artifact.projected()
            },
            encryptionKey: data.encryptionKey.flatMap { key in
                key.id.map { EncryptionKey(id: $0, type: key.type ?? "KMS") }
            },
            pipelineContext: data.pipelineContext.map { context in
                PipelineContext(
                    pipelineName: context.pipelineName, stageName: context.stage?.name,
                    actionName: context.action?.name, actionExecutionId: context.action?.actionExecutionId,
                    pipelineExecutionId: context.pipelineExecutionId, pipelineArn: context.pipelineArn)
            },
            actionTypeId: data.actionTypeId?.projected, configurationNames: configuration?.names ?? [],
            configurationValues: configuration?.revealed ?? [:])
    }

    /// A decoding failure as a schema path and a kind, without any value from the document.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(key.stringValue) at \(path(context))"
        case .typeMismatch(_, let context): return "wrong type at \(path(context))"
        case .valueNotFound(_, let context): return "null at \(path(context))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "invalid JSON" : "an invalid value at \(path(context))"
        @unknown default: return "undecodable"
        }
    }
}

/// The wire shapes, allowlisted. Every property is one jobcreds may hand out.
enum Wire {
    struct Envelope: Decodable {
        var jobDetails: Job
    }

    struct Job: Decodable {
        var id: String
        var accountId: String?
        var data: JobData?
    }

    struct JobData: Decodable {
        var artifactCredentials: ArtifactCredentials?
        var inputArtifacts: [Artifact]?
        var outputArtifacts: [Artifact]?
        var encryptionKey: Key?
        var pipelineContext: Context?
        var actionTypeId: ActionTypeIdentity?
        var actionConfiguration: ActionConfiguration?
    }

    struct ActionConfiguration: Decodable {
        var configuration: Configuration?
    }

    /// The configuration map: every property's name, and the value of those named in the
    /// decoder's `revealing` set only (a value that is not a string stays unread too).
    struct Configuration: Decodable {
        /// Where the decoder carries the names to reveal (without it, none is).
        static let revealing = CodingUserInfoKey(rawValue: "revealing")

        var names: [String]
        var revealed: [String: String]

        struct Name: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Name.self)
            let allowed = Self.revealing.flatMap { decoder.userInfo[$0] as? Set<String> } ?? []
            names = container.allKeys.map(\.stringValue)
            revealed = [:]
            for key in container.allKeys where allowed.contains(key.stringValue) {
                revealed[key.stringValue] = try? container.decode(String.self, forKey: key)
            }
        }
    }

    struct ArtifactCredentials: Decodable {
        var accessKeyId: String?
        var secretAccessKey: String?
        var sessionToken: String?
        var expirationTime: Timestamp?
    }

    /// Epoch seconds or milliseconds (as Lambda's event carries it), or an ISO 8601 string;
    /// anything else, a number out of range included, is a decoding error.
    struct Timestamp: Decodable {
        /// The dates an expiry may name: from 1970 through 9999 (what `Expiration` can write).
        static let range: ClosedRange<TimeInterval> = 0...AWSDate.writable.upperBound

        var date: Date

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                // Values past the year 33658 in seconds are milliseconds.
                let seconds = number > 1e12 ? number / 1000 : number
                guard Self.range.contains(seconds) else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "a time outside 1970-9999")
                }
                date = Date(timeIntervalSince1970: seconds)
            } else if let text = try? container.decode(String.self) {
                guard let parsed = AWSDate.parseISO8601(text), Self.range.contains(parsed.timeIntervalSince1970) else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "not an ISO 8601 time within 1970-9999")
                }
                date = parsed
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "neither a number nor a string")
            }
        }
    }

    struct Artifact: Decodable {
        var name: String?
        var revision: String?
        var location: Location?

        func projected() throws(CodePipelineError) -> CodePipeline.Artifact {
            guard let name, let s3 = location?.s3Location, let bucket = s3.bucketName, let key = s3.objectKey else {
                throw CodePipelineError(.malformedResponse, "an artifact lacks its name or S3 location")
            }
            return CodePipeline.Artifact(name: name, revision: revision, bucket: bucket, key: key)
        }
    }

    struct Location: Decodable {
        var s3Location: S3Location?
    }

    struct S3Location: Decodable {
        var bucketName: String?
        var objectKey: String?
    }

    struct Key: Decodable {
        var id: String?
        var type: String?
    }

    struct Context: Decodable {
        var pipelineName: String?
        var stage: Named?
        var action: Action?
        var pipelineArn: String?
        var pipelineExecutionId: String?
    }

    struct Named: Decodable {
        var name: String?
    }

    struct Action: Decodable {
        var name: String?
        var actionExecutionId: String?
    }
}
