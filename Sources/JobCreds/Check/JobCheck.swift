import AWSSigning
import CodePipeline
import HTTPTransport
import Logging

/// `jobcreds check`: resolve the worker identity, call CodePipeline once, and say whether the job
/// can be served. Never prints a secret.
public enum JobCheck {
    /// Runs the check, printing a report line by line through `print`.
    /// - Returns: normally; throws when the job cannot be served.
    /// - Throws: `JobCredsError` whose code says what failed (the executable maps it to an exit status).
    public static func run(
        _ settings: UpstreamSettings, environment: [String: String], transport: any HTTPTransport,
        clock: any WallClock = SystemWallClock(), logger: Logger, print: (String) -> Void
    ) async throws(JobCredsError) {
        let upstream = try Upstream.resolve(
            settings, environment: environment, transport: transport, clock: clock, logger: logger)
        let kind = upstream.clientToken == nil ? "custom action" : "third-party action"
        print(line("job", "\(upstream.jobId.value) (\(kind))"))
        print(line("region", upstream.region))
        print(line("endpoint", upstream.client.endpointDescription))

        let own: Credentials
        do {
            own = try await upstream.identity.credentials()
        } catch {
            print(line("identity", "\(upstream.identity.name): FAILED"))
            let code: JobCredsError.Code = error.code == .noCredentials ? .noCredentials : .identity
            throw JobCredsError(code, line("verdict", "cannot serve: \(error.description)"), underlying: error)
        }
        print(line("identity", "\(upstream.identity.name) (access key \(own.accessKeyId))"))

        let details: JobDetails
        do {
            details = try await upstream.fetch()
        } catch {
            throw JobCredsError(
                code(for: error), line("verdict", "cannot serve: \(error.description)"), underlying: error)
        }
        if let accountId = details.accountId { print(line("account", accountId)) }
        if let context = details.pipelineContext {
            let place = [context.pipelineName, context.stageName, context.actionName].compactMap { $0 }
            print(line("pipeline", place.joined(separator: " / ")))
        }
        for artifact in details.inputArtifacts {
            print(line("input", describe(artifact)))
        }
        for artifact in details.outputArtifacts {
            print(line("output", describe(artifact)))
        }
        if let key = details.encryptionKey {
            print(line("encryption", "\(key.type) key \(key.id)"))
        }
        let expiry =
            details.artifactCredentials.expiration.map { "expires \(AWSDate.iso8601($0))" }
            ?? "no expiry given; assumed short-lived and refreshed"
        print(line("artifact key", "\(details.artifactCredentials.accessKeyId) (\(expiry))"))
        print(line("verdict", "OK: jobcreds can serve this job"))
    }

    private static func describe(_ artifact: Artifact) -> String {
        let revision = artifact.revision.map { " (revision \($0))" } ?? ""
        return "\(artifact.name) \(artifact.uri)\(revision)"
    }

    /// `label:  value`, the value escaped: it holds CodePipeline's text (artifact names, ids),
    /// which must not write control characters or a line of its own to the terminal.
    private static func line(_ label: String, _ value: String) -> String {
        let padded = label + ":" + String(repeating: " ", count: max(1, 14 - label.count))
        return padded + TerminalText.escaped(value)
    }

    /// What a failed fetch means for the operator.
    static func code(for error: CodePipelineError) -> JobCredsError.Code {
        switch error.code {
        case .invalidJobId, .invalidClientToken, .invalidRequest, .actionTypeNotFound, .outputVariablesTooLarge: .usage
        case .jobNotFound, .invalidJob, .clientTokenRejected, .invalidNonce, .invalidJobState: .jobNotFound
        case .accessDenied, .clockSkew: .accessDenied
        case .identity: .identity
        case .throttled, .unavailable, .network, .transport: .unavailable
        case .malformedResponse, .unknown: .failed
        }
    }
}
