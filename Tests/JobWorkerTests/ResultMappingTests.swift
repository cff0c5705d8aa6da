import CodePipeline
import JobCreds
import Testing

@testable import JobWorker

/// A build's outcome becomes the result CodePipeline is sent: the failure type, the message, the
/// clamps.
@Suite struct ResultMappingTests {
    static let jobId = "f4f4ff82-2d11-4b3c-9e2d-0123456789ab"

    static func failure(_ outcome: BuildOutcome) throws -> JobResult.Failure {
        guard
            case .failure(let failure) = ResultMapping.result(outcome, jobId: jobId, workerId: "w1", thirdParty: false)
        else { throw MappingError.notAFailure }
        return failure
    }

    enum MappingError: Error { case notAFailure }

    @Test func aSuccessTakesWhatTheBuildLeftOrTheDefaults() {
        let left = ResultDirectory.Contents(summary: "built", externalExecutionId: "run-7", outputVariables: ["A": "b"])
        #expect(
            ResultMapping.result(.succeeded(left, seconds: 3), jobId: Self.jobId, workerId: "w1", thirdParty: false)
                == .success(.init(summary: "built", externalExecutionId: "run-7", outputVariables: ["A": "b"])))
        let none = ResultDirectory.Contents(outputVariables: ["A": "b"])
        #expect(
            ResultMapping.result(.succeeded(none, seconds: 72), jobId: Self.jobId, workerId: "w1", thirdParty: true)
                == .success(.init(summary: "succeeded in 1m12s", externalExecutionId: "w1/\(Self.jobId)")))
    }

    @Test(arguments: [
        (BuildOutcome.exited(3, lastLines: []), FailureType.jobFailed, "the build exited with status 3"),
        (.signaled(9, lastLines: []), .jobFailed, "the build was killed by SIGKILL"),
        (.timedOut(.seconds(82800)), .jobFailed, "the build ran longer than 23h"),
        (.stopped, .systemUnavailable, "the worker was stopped"),
        (
            .cannotRun(JobCredsError(.commandNotFound, "x: command not found")), .configurationError,
            "the build command cannot be run: x: command not found"
        ),
        (.noCredentials("refused"), .permissionError, "refused"),
        (.systemUnavailable("disk full"), .systemUnavailable, "disk full"),
    ])
    func eachOutcomeHasItsFailureType(_ outcome: BuildOutcome, _ type: FailureType, _ message: String) throws {
        let failure = try Self.failure(outcome)
        #expect(failure.type == type && failure.message == message)
        #expect(failure.externalExecutionId == "w1/\(Self.jobId)")
    }

    @Test func theLastLinesThatFitAreQuotedWithinTheLimit() throws {
        let lines = (1...20).map { "line \($0) " + String(repeating: "x", count: 400) }
        let failure = try Self.failure(.exited(1, lastLines: lines))
        #expect(failure.message.utf16.count <= APIText.message)
        #expect(failure.message.hasPrefix("the build exited with status 1; its last output:\n"))
        #expect(failure.message.hasSuffix(lines[19]))
        #expect(!failure.message.contains("line 1 "))
    }

    @Test func aLostBuildIsSystemUnavailable() {
        #expect(
            ResultMapping.lostBuild(jobId: Self.jobId, workerId: "w1")
                == .failure(
                    .init(
                        .systemUnavailable, "the worker restarted while the build ran",
                        externalExecutionId: "w1/\(Self.jobId)")))
    }
}
