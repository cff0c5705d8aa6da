import CodePipeline
import Foundation
import HTTPTransport
import TestSupport
import Testing

/// The job worker's calls against a scripted transport: the bodies sent, the answers decoded,
/// the errors a worker acts on, and no nonce or client token in any error or log.
@Suite struct CodePipelineClientJobWorkerTests {
    typealias Base = CodePipelineClientTests
    static let type = ActionTypeID(category: "Build", owner: "Custom", provider: "JobCredsTest", version: "1")
    static let nonce = "nonce-\(Base.canary)"

    static func answer(_ object: Any) throws -> Result<HTTPResponse, HTTPTransportError> {
        .success(
            HTTPResponse(status: 200, headers: [], body: Array(try JSONSerialization.data(withJSONObject: object))))
    }

    /// A PollForJobs answer holding the fixture's job `count` times, with ids 0, 1, ….
    static func pollAnswer(_ count: Int) throws -> Result<HTTPResponse, HTTPTransportError> {
        let document =
            try JSONSerialization.jsonObject(
                with: Data(try Fixtures.text("codepipeline/get-job-details.json").utf8)) as? [String: Any]
        let details = try #require(document?["jobDetails"] as? [String: Any])
        let jobs = (0..<count).map { index in
            [
                "id": "f4f4ff82-2d11-4b3c-9e2d-01234567890\(index)", "nonce": nonce + "\(index)",
                "accountId": "123456789012", "data": details["data"] as Any,
            ]
        }
        return try answer(["jobs": jobs])
    }

    static func body(_ request: HTTPRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
    }

    @Test func pollAsksForItsTypeAndDecodesEachJobWithItsNonce() async throws {
        let (client, h) = try Base.harness([try Self.pollAnswer(2)])
        let jobs = try await client.pollForJobs(Self.type, maxBatchSize: 3, query: ["ProjectName": "p1"])
        #expect(jobs.map(\.details.jobId).map { $0.suffix(1) } == ["0", "1"])
        #expect(jobs.map(\.nonce.value) == [Self.nonce + "0", Self.nonce + "1"])
        #expect(jobs[0].details.inputArtifacts.count == 1)
        #expect(jobs[0].details.configurationValues.isEmpty)  // no value revealed unless asked
        #expect("\(jobs[0].nonce)" == "(redacted)" && !"\(jobs)".contains(Base.canary))
        let request = try #require(h.requests.all.first)
        #expect(request.header("X-Amz-Target") == "CodePipeline_20150709.PollForJobs")
        let sent = try Self.body(request)
        #expect(sent["maxBatchSize"] as? Int == 3)
        #expect(sent["queryParam"] as? [String: String] == ["ProjectName": "p1"])
        #expect(
            sent["actionTypeId"] as? [String: String]
                == ["category": "Build", "owner": "Custom", "provider": "JobCredsTest", "version": "1"])
    }

    @Test func aPollWithoutQueryLeavesQueryParamOut() async throws {
        let (client, h) = try Base.harness([try Self.answer(["jobs": []])])
        #expect(try await client.pollForJobs(Self.type, maxBatchSize: 1).isEmpty)
        #expect(try Self.body(try #require(h.requests.all.first))["queryParam"] == nil)
    }

    @Test func aPolledJobWithoutCredentialsOrNonceIsMalformed() async throws {
        let (client, _) = try Base.harness([try Self.answer(["jobs": [["id": Base.jobId, "nonce": "n", "data": [:]]]])])
        await #expect(throws: CodePipelineError.self) { try await client.pollForJobs(Self.type, maxBatchSize: 1) }
        let (second, _) = try Base.harness([try Self.answer(["jobs": [["id": Base.jobId, "data": [:]]]])])
        let error = await #expect(throws: CodePipelineError.self) {
            try await second.pollForJobs(Self.type, maxBatchSize: 1)
        }
        #expect(error?.code == .malformedResponse)
    }

    @Test(arguments: JobStatus.allCases)
    func acknowledgeSendsTheNonceAndReturnsTheStatus(_ status: JobStatus) async throws {
        let (client, h) = try Base.harness([try Self.answer(["status": status.rawValue])])
        let answer = try await client.acknowledgeJob(try JobID(Base.jobId, kind: .custom), nonce: try Nonce(Self.nonce))
        #expect(answer == status)
        let request = try #require(h.requests.all.first)
        #expect(request.header("X-Amz-Target") == "CodePipeline_20150709.AcknowledgeJob")
        #expect(try Self.body(request) as? [String: String] == ["jobId": Base.jobId, "nonce": Self.nonce])
    }

    @Test(arguments: [
        ("InvalidNonceException", CodePipelineError.Code.invalidNonce),
        ("InvalidJobStateException", .invalidJobState), ("JobNotFoundException", .jobNotFound),
        ("OutputVariablesSizeExceededException", .outputVariablesTooLarge),
        ("ActionTypeNotFoundException", .actionTypeNotFound),
    ])
    func theErrorsAWorkerActsOnAreNotRetried(_ type: String, _ code: CodePipelineError.Code) async throws {
        let (client, h) = try Base.harness([Base.error(400, type, "nonce \(Self.nonce) echoed")])
        let error = await #expect(throws: CodePipelineError.self) {
            _ = try await client.acknowledgeJob(try JobID(Base.jobId, kind: .custom), nonce: try Nonce(Self.nonce))
        }
        #expect(error?.code == code)
        #expect(h.requests.all.count == 1)
        #expect(!"\(String(describing: error))".contains(Base.canary))
        #expect(!h.logs.all.joined(separator: "\n").contains(Base.canary))
    }

    @Test func anAcknowledgeWhoseAnswerWasLostIsRetriedWithTheSameNonce() async throws {
        let (client, h) = try Base.harness([
            .failure(HTTPTransportError(.connectionReset, "reset")), try Self.answer(["status": "InProgress"]),
        ])
        let status = try await client.acknowledgeJob(try JobID(Base.jobId, kind: .custom), nonce: try Nonce(Self.nonce))
        #expect(status == .inProgress)
        #expect(h.requests.all.map(\.body).count == 2)
        #expect(Set(h.requests.all.map(\.body)).count == 1)
        #expect(!h.logs.all.joined(separator: "\n").contains(Base.canary))
    }

    @Test func successSendsDetailsAndOutputVariables() async throws {
        let (client, h) = try Base.harness([try Self.answer([:])])
        let success = JobResult.Success(
            summary: "built", externalExecutionId: "worker/job", outputVariables: ["IMAGE_TAG": "v1"])
        try await client.putJobResult(try JobID(Base.jobId, kind: .custom), .success(success))
        let request = try #require(h.requests.all.first)
        #expect(request.header("X-Amz-Target") == "CodePipeline_20150709.PutJobSuccessResult")
        let sent = try Self.body(request)
        #expect(sent["jobId"] as? String == Base.jobId)
        #expect(sent["outputVariables"] as? [String: String] == ["IMAGE_TAG": "v1"])
        let details = try #require(sent["executionDetails"] as? [String: Any])
        #expect(details["summary"] as? String == "built" && details["externalExecutionId"] as? String == "worker/job")
        #expect(details["percentComplete"] as? Int == 100)
    }

    @Test func failureSendsItsTypeAndClampedMessage() async throws {
        let (client, h) = try Base.harness([try Self.answer([:])])
        let failure = JobResult.Failure(.configurationError, String(repeating: "é", count: 6000))
        try await client.putJobResult(try JobID(Base.jobId, kind: .custom), .failure(failure))
        let request = try #require(h.requests.all.first)
        #expect(request.header("X-Amz-Target") == "CodePipeline_20150709.PutJobFailureResult")
        let details = try #require(try Self.body(request)["failureDetails"] as? [String: String])
        #expect(details["type"] == "ConfigurationError")
        #expect(details["message"]?.utf16.count == 5000 && details["message"]?.hasSuffix("…") == true)
    }

    @Test func thirdPartyCallsCarryTheClientTokenAndNoOutputVariables() async throws {
        let token = try ClientToken("client-token-\(Base.canary)")
        let (client, h) = try Base.harness([
            try Self.answer(["jobs": [["clientId": "c1", "jobId": "partner-job-42"]]]),
            .success(
                HTTPResponse(
                    status: 200, headers: [],
                    body: Array(
                        try Fixtures.text("codepipeline/get-third-party-job-details.json").utf8))),
            try Self.answer(["status": "InProgress"]), try Self.answer([:]),
        ])
        let listed = try await client.pollForThirdPartyJobs(Self.type, maxBatchSize: 2)
        #expect(listed == [ThirdPartyJobReference(clientId: "c1", jobId: "partner-job-42")])
        let id = try JobID("partner-job-42", kind: .thirdParty)
        let job = try await client.thirdPartyJob(id, clientToken: token)
        #expect(job.nonce.value == Self.nonce && job.details.jobId == "partner-job-42")
        #expect(try await client.acknowledgeJob(id, nonce: job.nonce, clientToken: token) == .inProgress)
        let success = JobResult.Success(summary: "s", externalExecutionId: "e", outputVariables: ["A": "b"])
        try await client.putJobResult(id, .success(success), clientToken: token)
        let targets = h.requests.all.map { $0.header("X-Amz-Target") ?? "" }
        #expect(
            targets
                == [
                    "PollForThirdPartyJobs", "GetThirdPartyJobDetails", "AcknowledgeThirdPartyJob",
                    "PutThirdPartyJobSuccessResult",
                ].map { "CodePipeline_20150709.\($0)" })
        let acknowledged = try Self.body(h.requests.all[2]) as? [String: String]
        #expect(acknowledged == ["jobId": "partner-job-42", "nonce": Self.nonce, "clientToken": token.value])
        let reported = try Self.body(h.requests.all[3])
        #expect(reported["clientToken"] as? String == token.value && reported["outputVariables"] == nil)
    }

    @Test func aThirdPartyJobWithoutANonceIsMalformed() async throws {
        let (client, _) = try Base.harness([
            .success(
                HTTPResponse(
                    status: 200, headers: [],
                    body: Array(
                        try Fixtures.text("codepipeline/get-third-party-job-details.json").replacingOccurrences(
                            of: "},\n    \"nonce\": \"\(Self.nonce)\"", with: "}"
                        ).utf8)))
        ])
        let error = await #expect(throws: CodePipelineError.self) {
            _ = try await client.thirdPartyJob(
                try JobID("partner-job-42", kind: .thirdParty), clientToken: try ClientToken("t"))
        }
        #expect(error?.code == .malformedResponse)
    }

    @Test(arguments: [
        ("", 10, "-"), ("abc", 10, "abc"), ("abcdefghijkl", 10, "abcdefghi…"),
        ("😀😀😀😀😀😀", 5, "😀😀…"),
    ])
    func textsAreClampedToTheModelsLengths(_ text: String, _ limit: Int, _ expected: String) {
        let clamped = APIText.clamped(text, to: limit)
        #expect(clamped == expected)
        #expect(clamped.utf16.count <= limit)
    }

    @Test func resultsAreClampedWhenMade() {
        let success = JobResult.Success(
            summary: String(repeating: "s", count: 3000), externalExecutionId: String(repeating: "e", count: 2000),
            percentComplete: 140)
        #expect(success.summary.utf16.count == 2048 && success.externalExecutionId.utf16.count == 1500)
        #expect(success.percentComplete == 100)
        #expect(JobResult.Failure(.jobFailed, "").message == "-")
    }
}
