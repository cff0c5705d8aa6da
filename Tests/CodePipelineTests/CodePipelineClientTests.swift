import AWSSigning
import CodePipeline
import Foundation
import HTTPTransport
import Synchronization
import TestSupport
import Testing

/// The client against a scripted transport: request shape, signing, retries, error decoding, and
/// no secret in any error, log line or observer record.
@Suite struct CodePipelineClientTests {
    static let canary = "CANARY-7f3a9c"
    static let jobId = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"
    static let workerSecret = "worker-secret-\(canary)"

    /// What a test sees of one scripted client.
    struct Harness {
        let requests = RequestLog()
        let calls = Counter()
        let sleeper = RecordingSleeper()
        let logs = CapturedLogs()
        let records = RecordBox()
    }

    /// A client whose transport answers attempt *n* with `answers[n-1]` (the last one repeats).
    static func harness(
        maxAttempts: Int = 5, _ answers: [Result<HTTPResponse, HTTPTransportError>]
    ) throws -> (CodePipelineClient, Harness) {
        let h = Harness()
        let transport = ClosureTransport { request throws(HTTPTransportError) in
            h.requests.append(request)
            let index = min(h.calls.next(), answers.count) - 1
            return try answers[index].get()
        }
        let identity = FixedCredentialsSource(
            Credentials(
                accessKeyId: "AKIAWORKER", secretAccessKey: workerSecret, sessionToken: "worker-token-\(canary)"))
        let clock = ManualWallClock(Date(timeIntervalSince1970: 1_440_938_160))
        let client = CodePipelineClient(
            transport: transport, identity: identity, region: "us-east-1",
            endpoint: try #require(EndpointURL("https://codepipeline.us-east-1.amazonaws.com")), clock: clock,
            retry: h.sleeper.policy(maxAttempts: maxAttempts), logger: h.logs.logger(),
            observer: { h.records.append($0) })
        return (client, h)
    }

    static func ok() throws -> Result<HTTPResponse, HTTPTransportError> {
        .success(
            HTTPResponse(
                status: 200, headers: [("x-amzn-RequestId", "req-ok")],
                body: Array(try Fixtures.text("codepipeline/get-job-details.json").utf8)))
    }

    static func error(
        _ status: Int, _ type: String, _ message: String = "m"
    ) -> Result<HTTPResponse, HTTPTransportError> {
        .success(
            HTTPResponse(
                status: status, headers: [("x-amzn-RequestId", "req-\(status)")],
                body: "{\"__type\": \"\(type)\", \"message\": \"\(message)\"}"))
    }

    @Test func sendsASignedJSON11Request() async throws {
        let (client, h) = try Self.harness([try Self.ok()])
        let details = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        #expect(details.jobId == Self.jobId)
        let request = try #require(h.requests.all.first)
        #expect(request.method == "POST")
        #expect(request.url == "https://codepipeline.us-east-1.amazonaws.com/")
        #expect(request.header("X-Amz-Target") == "CodePipeline_20150709.GetJobDetails")
        #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
        #expect(request.header("X-Amz-Date") == "20150830T123600Z")
        #expect(request.header("X-Amz-Security-Token") == "worker-token-\(Self.canary)")
        #expect(String(decoding: request.body, as: UTF8.self) == "{\"jobId\":\"\(Self.jobId)\"}")
        // The Authorization header is what an independent signing of the same request gives.
        let signer = SigV4Signer(
            credentials: Credentials(
                accessKeyId: "AKIAWORKER", secretAccessKey: Self.workerSecret,
                sessionToken: "worker-token-\(Self.canary)"),
            region: "us-east-1", service: "codepipeline")
        let expected = signer.sign(
            SigV4Signer.Request(
                method: "POST", path: "/",
                headers: [
                    ("Host", "codepipeline.us-east-1.amazonaws.com"),
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("X-Amz-Target", "CodePipeline_20150709.GetJobDetails"),
                ], body: request.body),
            at: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(request.header("Authorization") == expected.authorization)
        #expect(
            request.header("Authorization")?.contains(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target") == true)
        #expect(h.records.all.map(\.requestId) == ["req-ok"])
    }

    @Test(arguments: [
        (400, "ThrottlingException"), (400, "com.amazonaws.codepipeline#ThrottlingException"), (429, ""),
        (500, "InternalFailure"), (502, ""), (503, "ServiceUnavailable"), (504, ""),
    ])
    func retriesThrottlingAnd5xxThenSucceeds(_ status: Int, _ type: String) async throws {
        let (client, h) = try Self.harness([Self.error(status, type), Self.error(status, type), try Self.ok()])
        _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        #expect(h.calls.count == 3)
        // Full jitter with random() = 0.5: half of 100 ms, then half of 200 ms.
        #expect(h.sleeper.recorded == [.milliseconds(50), .milliseconds(100)])
        #expect(h.records.all.map(\.attempt) == [1, 2, 3])
    }

    @Test(arguments: [HTTPTransportError.Code.connectionRefused, .timedOut, .connectionReset, .dnsFailure])
    func retriesTransientNetworkErrors(_ code: HTTPTransportError.Code) async throws {
        let (client, h) = try Self.harness([.failure(HTTPTransportError(code, "x")), try Self.ok()])
        _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        #expect(h.calls.count == 2)
        #expect(h.records.all.first?.outcome.rawValue == "network")
    }

    @Test func givesUpAfterMaxAttemptsWithACappedBackoff() async throws {
        let (client, h) = try Self.harness(maxAttempts: 8, [Self.error(400, "ThrottlingException")])
        await #expect {
            _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        } throws: { ($0 as? CodePipelineError)?.code == .throttled }
        #expect(h.calls.count == 8)
        #expect(h.sleeper.recorded.count == 7)
        #expect(h.sleeper.recorded.allSatisfy { $0 <= .seconds(10) })
        #expect(h.sleeper.recorded.last == .milliseconds(3200))
    }

    @Test(arguments: [
        ("JobNotFoundException", CodePipelineError.Code.jobNotFound),
        ("com.amazonaws.codepipeline#InvalidJobException", .invalidJob),
        (
            "InvalidClientTokenException:http://internal.amazon.com/coral/com.amazonaws.codepipeline/",
            .clientTokenRejected
        ),
        ("ValidationException", .invalidRequest),
        ("AccessDeniedException", .accessDenied),
        ("UnrecognizedClientException", .accessDenied),
        ("InvalidSignatureException", .accessDenied),
        ("SomethingNew", .unknown),
    ])
    func requestErrorsAreTypedAndNeverRetried(_ type: String, _ code: CodePipelineError.Code) async throws {
        let (client, h) = try Self.harness([Self.error(400, type), try Self.ok()])
        await #expect {
            _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        } throws: { error in
            guard let error = error as? CodePipelineError else { return false }
            return error.code == code && error.requestId == "req-400" && !error.isRetryable
        }
        #expect(h.calls.count == 1)
        #expect(h.sleeper.recorded.isEmpty)
    }

    @Test(arguments: [HTTPTransportError.Code.tlsFailure, .invalidURL, .responseTooLarge])
    func permanentTransportErrorsAreNotRetried(_ code: HTTPTransportError.Code) async throws {
        let (client, h) = try Self.harness([.failure(HTTPTransportError(code, "x")), try Self.ok()])
        await #expect {
            _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        } throws: { ($0 as? CodePipelineError)?.code == .transport }
        #expect(h.calls.count == 1)
    }

    @Test func malformedAnswersAreNotRetried() async throws {
        let (client, h) = try Self.harness([.success(HTTPResponse(status: 200, body: "garbage \(Self.canary)"))])
        await #expect {
            _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        } throws: { ($0 as? CodePipelineError)?.code == .malformedResponse }
        #expect(h.calls.count == 1)
    }

    /// A third-party call: the client token goes in the body, and never into an error (even when
    /// upstream echoes it), a log line or an observer record.
    @Test func clientTokenNeverLeaks() async throws {
        let token = "client-token-\(Self.canary)"
        let echo = "Value '\(token)' at 'clientToken' failed to satisfy constraint"
        for answers in [
            [Self.error(400, "ValidationException", echo)],
            [Self.error(400, "AccessDeniedException", "User x is not authorized; token \(token)")],
            [Self.error(503, "ServiceUnavailable", echo), Self.error(400, "ThrottlingException", echo)],
        ] {
            let (client, h) = try Self.harness(maxAttempts: 3, answers)
            var thrown: (any Error)?
            do {
                _ = try await client.getThirdPartyJobDetails(
                    try JobID("partner-job-42", kind: .thirdParty), clientToken: try ClientToken(token))
            } catch {
                thrown = error
            }
            let error = try #require(thrown as? CodePipelineError)
            let request = try #require(h.requests.all.first)
            #expect(request.header("X-Amz-Target") == "CodePipeline_20150709.GetThirdPartyJobDetails")
            #expect(String(decoding: request.body, as: UTF8.self).contains(token))
            for text in ["\(error)", String(reflecting: error), error.message] + h.logs.all
                + h.records.all.map({ "\($0)" })
            {
                #expect(!text.contains(Self.canary), "\(text)")
            }
        }
    }

    @Test func accessDeniedKeepsAwsExplanationForOperators() async throws {
        let (client, _) = try Self.harness([
            Self.error(
                400, "AccessDeniedException",
                "User: arn:aws:iam::1:user/w is not authorized to perform: codepipeline:GetJobDetails")
        ])
        await #expect {
            _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        } throws: { "\($0)".contains("not authorized to perform: codepipeline:GetJobDetails") }
    }

    @Test func noSecretInRetryLogs() async throws {
        let (client, h) = try Self.harness([Self.error(500, "InternalFailure", Self.canary), try Self.ok()])
        _ = try await client.getJobDetails(try JobID(Self.jobId, kind: .custom))
        #expect(h.logs.all.count == 1)
        for line in h.logs.all {
            #expect(!line.contains(Self.canary))
            #expect(!line.contains("artifact-secret"))
        }
    }
}

/// `ListActionTypes`: every page read with the job's owner as the filter, an exact match of the
/// action type id, and `secret` read as secret unless it is the boolean `false`.
@Suite struct ActionTypeDeclarationTests {
    static let id = ActionTypeID(category: "Build", owner: "Custom", provider: "JobCredsTest", version: "1")

    static func page(_ types: String, next: String? = nil) -> Result<HTTPResponse, HTTPTransportError> {
        let token = next.map { ", \"nextToken\": \"\($0)\"" } ?? ""
        return .success(HTTPResponse(status: 200, headers: [], body: "{\"actionTypes\": [\(types)]\(token)}"))
    }

    static func type(version: String, _ properties: String) -> String {
        """
        {"id": {"category": "Build", "owner": "Custom", "provider": "JobCredsTest", "version": "\(version)"},
         "actionConfigurationProperties": [\(properties)], "settings": {}}
        """
    }

    @Test func everyPageIsReadUntilTheExactTypeIsFound() async throws {
        let (client, h) = try CodePipelineClientTests.harness([
            Self.page(Self.type(version: "2", #"{"name": "ApiKey", "secret": false}"#), next: "page-2"),
            Self.page(
                Self.type(
                    version: "1",
                    #"""
                    {"name": "ProjectName", "secret": false, "required": true}, {"name": "ApiKey", "secret": true},
                    {"name": "NoFlag"}, {"name": "Quoted", "secret": "false"}, {"name": "Null", "secret": null},
                    {"secret": false}
                    """#)),
        ])
        let declaration = try #require(try await client.actionTypeDeclaration(Self.id))
        #expect(declaration.id == Self.id)
        #expect(declaration.properties == ["ProjectName", "ApiKey", "NoFlag", "Quoted", "Null"])
        #expect(declaration.nonSecretProperties == ["ProjectName"])
        let bodies = h.requests.all.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(
            bodies == [#"{"actionOwnerFilter":"Custom"}"#, #"{"actionOwnerFilter":"Custom","nextToken":"page-2"}"#])
        #expect(h.requests.all.allSatisfy { $0.header("X-Amz-Target") == "CodePipeline_20150709.ListActionTypes" })
        #expect(h.records.all.map(\.operation) == [.listActionTypes, .listActionTypes])
    }

    @Test func aTypeNotListedIsNil() async throws {
        let (client, _) = try CodePipelineClientTests.harness([Self.page(Self.type(version: "2", ""))])
        #expect(try await client.actionTypeDeclaration(Self.id) == nil)
    }

    @Test func anOwnerCodePipelineDoesNotListIsRefusedWithoutACall() async throws {
        let (client, h) = try CodePipelineClientTests.harness([Self.page("")])
        var id = Self.id
        id.owner = "Custom\", \"x\": \"y"
        await #expect(throws: CodePipelineError.self) { try await client.actionTypeDeclaration(id) }
        #expect(h.requests.all.isEmpty)
    }

    @Test func endlessPagesAndBadTokensAreMalformed() async throws {
        let (endless, h) = try CodePipelineClientTests.harness([Self.page("", next: "again")])
        await #expect { try await endless.actionTypeDeclaration(Self.id) } throws: {
            ($0 as? CodePipelineError)?.code == .malformedResponse
        }
        #expect(h.requests.all.count == CodePipelineClient.actionTypePages)
        let (huge, _) = try CodePipelineClientTests.harness([Self.page("", next: String(repeating: "t", count: 4096))])
        await #expect { try await huge.actionTypeDeclaration(Self.id) } throws: {
            ($0 as? CodePipelineError)?.code == .malformedResponse
        }
    }

    @Test func aDeniedLookupIsAccessDenied() async throws {
        let (client, _) = try CodePipelineClientTests.harness([
            CodePipelineClientTests.error(400, "AccessDeniedException", "not authorized: codepipeline:ListActionTypes")
        ])
        await #expect { try await client.actionTypeDeclaration(Self.id) } throws: {
            ($0 as? CodePipelineError)?.code == .accessDenied
        }
    }
}

/// Collects observer records.
final class RecordBox: Sendable {
    private let records = Mutex<[UpstreamCall]>([])
    func append(_ record: UpstreamCall) { records.withLock { $0.append(record) } }
    var all: [UpstreamCall] { records.withLock { $0 } }
}
