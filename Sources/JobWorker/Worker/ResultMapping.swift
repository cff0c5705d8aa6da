import CodePipeline
import JobCreds

/// A build's outcome as the result CodePipeline is sent: the failure type the console groups it
/// by, and a message whose quoted build output was scrubbed when it was read.
enum ResultMapping {
    /// The result for `outcome` of `job` on worker `workerId`.
    static func result(
        _ outcome: BuildOutcome, jobId: String, workerId: String, thirdParty: Bool
    ) -> JobResult {
        let externalId = APIText.clamped("\(workerId)/\(jobId)", to: APIText.executionId)
        switch outcome {
        case .succeeded(let contents, let seconds):
            return .success(
                .init(
                    summary: contents.summary ?? "succeeded in \(DurationText.format(.seconds(seconds)))",
                    externalExecutionId: contents.externalExecutionId ?? externalId,
                    outputVariables: thirdParty ? [:] : contents.outputVariables))
        case .exited(let status, let lines):
            return failure(.jobFailed, "the build exited with status \(status)", lines, externalId)
        case .signaled(let signal, let lines):
            return failure(.jobFailed, "the build was killed by \(LocalExecutor.signalName(signal))", lines, externalId)
        case .timedOut(let limit):
            return failure(.jobFailed, "the build ran longer than \(DurationText.format(limit))", [], externalId)
        case .stopped:
            return failure(.systemUnavailable, "the worker was stopped", [], externalId)
        case .cannotRun(let error):
            return failure(.configurationError, "the build command cannot be run: \(error.message)", [], externalId)
        case .badResult(let error):
            return failure(.configurationError, "the build's result is wrong: \(error.message)", [], externalId)
        case .noCredentials(let reason):
            return failure(.permissionError, reason, [], externalId)
        case .systemUnavailable(let reason):
            return failure(.systemUnavailable, reason, [], externalId)
        case .artifactFailed(let type, let reason):
            return failure(type, reason, [], externalId)
        }
    }

    /// What a restarted worker reports for a job whose build it lost.
    static func lostBuild(jobId: String, workerId: String) -> JobResult {
        .failure(
            .init(
                .systemUnavailable, "the worker restarted while the build ran",
                externalExecutionId: "\(workerId)/\(jobId)"))
    }

    private static func failure(
        _ type: FailureType, _ message: String, _ lines: [String], _ externalId: String
    ) -> JobResult {
        var text = message
        if !lines.isEmpty {
            // The last lines that fit: the message is clamped from its end otherwise.
            var kept: [String] = []
            var size = text.utf16.count + 20
            for line in lines.reversed() {
                size += line.utf16.count + 1
                guard size <= APIText.message else { break }
                kept.insert(line, at: 0)
            }
            text += "; its last output:\n" + kept.joined(separator: "\n")
        }
        return .failure(.init(type, text, externalExecutionId: externalId))
    }
}
