import CodePipeline
import Logging
import Synchronization

/// Fetches the job together with its non-secret configuration (`--expose-configuration`): the
/// job's document, then what its action type declares (`ListActionTypes`), then the values of
/// the properties declared not secret, and of no other.
///
/// Values are only ever decoded by name from the declaration's allowlist: the first fetch of a
/// job decodes none (the declaration is not known yet) and is followed by one that asks for the
/// declared ones; later fetches ask for them straight away. The declaration is kept for the job's
/// life and looked up again with every fetch; if a lookup fails, the last one found for the same
/// action type stands, and with none the whole answer is unavailable. Nothing is guessed.
///
/// Thread-safety: the refresher is its only caller; the kept declaration is behind a mutex.
public final class ConfigurationLookup: Sendable {
    private let fetchJob: @Sendable (Set<String>) async throws(CodePipelineError) -> JobDetails
    private let declare: @Sendable (ActionTypeID) async throws(CodePipelineError) -> ActionTypeDeclaration?
    private let known = Mutex<ActionTypeDeclaration?>(nil)
    private let logger: Logger

    /// Creates a lookup.
    /// - Parameters:
    ///   - fetchJob: fetches the job, decoding the values of the properties named.
    ///   - declare: `ListActionTypes` for one action type; nil when it is not listed.
    public init(
        fetchJob: @escaping @Sendable (Set<String>) async throws(CodePipelineError) -> JobDetails,
        declare: @escaping @Sendable (ActionTypeID) async throws(CodePipelineError) -> ActionTypeDeclaration?,
        logger: Logger
    ) {
        self.fetchJob = fetchJob
        self.declare = declare
        self.logger = logger
    }

    /// The job and what `/v1/configuration` answers for it. The returned details hold no
    /// configuration value.
    /// - Throws: the job fetch's error; a failed lookup is an unavailable answer, not an error.
    public func fetch() async throws(CodePipelineError) -> Fetched {
        let previous = known.withLock { $0 }
        let asked = previous?.nonSecretProperties ?? []
        var details = try await fetchJob(asked)
        let answer: ConfigurationAnswer
        switch await declaration(for: details.actionTypeId, previous: previous) {
        case .failure(let reason):
            answer = .unavailable(reason: reason)
        case .success(let declaration):
            if !declaration.nonSecretProperties.intersection(details.configurationNames).isSubset(of: asked) {
                // The first fetch, or a property newly declared not secret: fetch its value.
                details = try await fetchJob(declaration.nonSecretProperties)
            }
            answer = ConfigurationAnswer(details, declaration: declaration)
        }
        details.configurationValues = [:]
        return Fetched(details: details, configuration: answer)
    }

    private enum Declared {
        case success(ActionTypeDeclaration)
        case failure(String)
    }

    private func declaration(for id: ActionTypeID?, previous: ActionTypeDeclaration?) async -> Declared {
        guard let id else {
            known.withLock { $0 = nil }
            return .failure("the job document names no action type")
        }
        do {
            guard let found = try await declare(id) else {
                known.withLock { $0 = nil }
                return .failure(
                    "ListActionTypes lists no action type \(id.owner)/\(id.category)/\(id.provider)/\(id.version) "
                        + "the worker identity can read")
            }
            known.withLock { $0 = found }
            return .success(found)
        } catch {
            if let previous, previous.id == id {
                logger.warning(
                    "looking up the action type failed; the declaration found before stands",
                    metadata: ["error": "\(error.code.rawValue)"])
                return .success(previous)
            }
            let hint =
                error.code == .accessDenied ? ": the worker identity needs codepipeline:ListActionTypes" : ""
            return .failure("ListActionTypes failed (\(error.code.rawValue))\(hint)")
        }
    }
}

/// What one fetch brings: the job and, with `--expose-configuration`, its configuration answer.
public struct Fetched: Sendable {
    /// The job.
    public var details: JobDetails
    /// What `/v1/configuration` answers.
    public var configuration: ConfigurationAnswer

    /// Creates a fetch's result.
    public init(details: JobDetails, configuration: ConfigurationAnswer = .notExposed) {
        self.details = details
        self.configuration = configuration
    }
}
