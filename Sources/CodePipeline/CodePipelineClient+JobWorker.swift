#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The job worker's calls: poll, acknowledge, report, for custom and third-party action types.
///
/// Each call is retried as every call is (throttling, 5xx, network); the nonce and the client
/// token are sent in the body only and scrubbed from any upstream text.
extension CodePipelineClient {
    /// `PollForJobs`: at most `maxBatchSize` jobs of `type`, each with its nonce.
    /// - Parameters:
    ///   - query: the `queryParam` (at most one entry).
    ///   - revealing: the configuration values to keep (none: the worker hands none out).
    public func pollForJobs(
        _ type: ActionTypeID, maxBatchSize: Int, query: [String: String] = [:], revealing: Set<String> = []
    ) async throws(CodePipelineError) -> [PolledJob] {
        let request = PollRequest(
            actionTypeId: .init(type), maxBatchSize: maxBatchSize, queryParam: query.isEmpty ? nil : query)
        return try await call(.pollForJobs, body: try Self.encoded(request), secrets: []) {
            (body) throws(CodePipelineError) in
            let answer = try JobDetails.decodeWire(
                PollAnswer.self, from: body, revealing: revealing, what: "a PollForJobs answer")
            return try answer.jobs.map { (job) throws(CodePipelineError) in
                PolledJob(
                    details: try JobDetails.projected(id: job.id, accountId: job.accountId, data: job.data),
                    nonce: try Nonce(job.nonce))
            }
        }
    }

    /// `AcknowledgeJob` (or `AcknowledgeThirdPartyJob` with `clientToken`): what CodePipeline says
    /// of the job now. Only `.inProgress` makes it this worker's.
    public func acknowledgeJob(
        _ jobId: JobID, nonce: Nonce, clientToken: ClientToken? = nil
    ) async throws(CodePipelineError) -> JobStatus {
        let operation: CodePipelineOperation = clientToken == nil ? .acknowledgeJob : .acknowledgeThirdPartyJob
        let request = AcknowledgeRequest(jobId: jobId.value, nonce: nonce.value, clientToken: clientToken?.value)
        return try await call(
            operation, body: try Self.encoded(request), secrets: [nonce.value, clientToken?.value].compactMap { $0 }
        ) { (body) throws(CodePipelineError) in
            try JobDetails.decodeWire(
                AcknowledgeAnswer.self, from: body, revealing: [], what: "an \(operation.rawValue) answer"
            ).status
        }
    }

    /// `PutJobSuccessResult`/`PutJobFailureResult` (or the third-party ones with `clientToken`,
    /// which take no output variables: the caller leaves them out).
    public func putJobResult(
        _ jobId: JobID, _ result: JobResult, clientToken: ClientToken? = nil
    ) async throws(CodePipelineError) {
        let thirdParty = clientToken != nil
        let operation: CodePipelineOperation
        let body: [UInt8]
        switch result {
        case .success(let success):
            operation = thirdParty ? .putThirdPartyJobSuccessResult : .putJobSuccessResult
            body = try Self.encoded(
                SuccessRequest(
                    jobId: jobId.value, clientToken: clientToken?.value,
                    executionDetails: .init(
                        summary: success.summary, externalExecutionId: success.externalExecutionId,
                        percentComplete: success.percentComplete),
                    outputVariables: thirdParty || success.outputVariables.isEmpty ? nil : success.outputVariables))
        case .failure(let failure):
            operation = thirdParty ? .putThirdPartyJobFailureResult : .putJobFailureResult
            body = try Self.encoded(
                FailureRequest(jobId: jobId.value, clientToken: clientToken?.value, failureDetails: failure))
        }
        try await call(operation, body: body, secrets: [clientToken?.value].compactMap { $0 }) {
            (_) throws(CodePipelineError) in ()
        }
    }

    /// `PollForThirdPartyJobs`: which jobs wait, for which client; no data.
    public func pollForThirdPartyJobs(
        _ type: ActionTypeID, maxBatchSize: Int
    ) async throws(CodePipelineError) -> [ThirdPartyJobReference] {
        let request = PollRequest(actionTypeId: .init(type), maxBatchSize: maxBatchSize, queryParam: nil)
        return try await call(.pollForThirdPartyJobs, body: try Self.encoded(request), secrets: []) {
            (body) throws(CodePipelineError) in
            try JobDetails.decodeWire(
                ThirdPartyPollAnswer.self, from: body, revealing: [], what: "a PollForThirdPartyJobs answer"
            ).jobs.map { ThirdPartyJobReference(clientId: $0.clientId, jobId: $0.jobId) }
        }
    }

    /// `GetThirdPartyJobDetails` with the nonce a third-party job is acknowledged with.
    public func thirdPartyJob(
        _ jobId: JobID, clientToken: ClientToken, revealing: Set<String> = []
    ) async throws(CodePipelineError) -> PolledJob {
        let body = try Self.encoded(["jobId": jobId.value, "clientToken": clientToken.value])
        return try await call(.getThirdPartyJobDetails, body: body, secrets: [clientToken.value]) {
            (body) throws(CodePipelineError) in
            let job = try JobDetails.decodeWire(
                ThirdPartyEnvelope.self, from: body, revealing: revealing, what: "a job document"
            ).jobDetails
            guard let nonce = job.nonce else {
                throw CodePipelineError(.malformedResponse, "the third-party job document has no nonce")
            }
            return PolledJob(
                details: try JobDetails.projected(id: job.id, accountId: nil, data: job.data),
                nonce: try Nonce(nonce))
        }
    }

    static func encoded(_ value: some Encodable) throws(CodePipelineError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Array(try encoder.encode(value))
        } catch {
            throw CodePipelineError(.invalidRequest, "cannot encode the request")
        }
    }
}

// MARK: - Wire shapes

private struct WireActionTypeID: Encodable {
    var category: String
    var owner: String
    var provider: String
    var version: String

    init(_ id: ActionTypeID) {
        category = id.category
        owner = id.owner
        provider = id.provider
        version = id.version
    }
}

private struct PollRequest: Encodable {
    var actionTypeId: WireActionTypeID
    var maxBatchSize: Int
    var queryParam: [String: String]?
}

private struct PollAnswer: Decodable {
    struct Job: Decodable {
        var id: String
        var accountId: String?
        var nonce: String
        var data: Wire.JobData?
    }
    var jobs: [Job]
}

private struct ThirdPartyPollAnswer: Decodable {
    struct Job: Decodable {
        var clientId: String
        var jobId: String
    }
    var jobs: [Job]
}

private struct ThirdPartyEnvelope: Decodable {
    struct Job: Decodable {
        var id: String
        var nonce: String?
        var data: Wire.JobData?
    }
    var jobDetails: Job
}

private struct AcknowledgeRequest: Encodable {
    var jobId: String
    var nonce: String
    var clientToken: String?
}

private struct AcknowledgeAnswer: Decodable {
    var status: JobStatus
}

private struct SuccessRequest: Encodable {
    struct Details: Encodable {
        var summary: String
        var externalExecutionId: String
        var percentComplete: Int
    }
    var jobId: String
    var clientToken: String?
    var executionDetails: Details
    var outputVariables: [String: String]?
}

private struct FailureRequest: Encodable {
    var jobId: String
    var clientToken: String?
    var failureDetails: JobResult.Failure
}
