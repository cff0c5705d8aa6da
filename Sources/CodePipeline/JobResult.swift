/// What a job's end sends to `PutJobSuccessResult` or `PutJobFailureResult`, each text clamped to
/// the model's lengths when it is made, so no result is refused for its size.
public enum JobResult: Sendable, Equatable {
    /// The job succeeded.
    case success(Success)
    /// The job failed.
    case failure(Failure)

    /// The model's `ExecutionDetails` and the output variables.
    public struct Success: Sendable, Equatable, Codable {
        /// What the console shows (1 to 2,048 characters).
        public var summary: String
        /// The id `executionUrlTemplate` links to (1 to 1,500 characters).
        public var externalExecutionId: String
        /// 0 to 100.
        public var percentComplete: Int
        /// The action's output variables (custom actions only).
        public var outputVariables: [String: String]

        /// Creates a success, clamping each text and the percentage.
        public init(
            summary: String, externalExecutionId: String, percentComplete: Int = 100,
            outputVariables: [String: String] = [:]
        ) {
            self.summary = APIText.clamped(summary, to: APIText.summary)
            self.externalExecutionId = APIText.clamped(externalExecutionId, to: APIText.executionId)
            self.percentComplete = min(100, max(0, percentComplete))
            self.outputVariables = outputVariables
        }
    }

    /// The model's `FailureDetails`.
    public struct Failure: Sendable, Equatable, Codable {
        /// Why, as the console groups it.
        public var type: FailureType
        /// What happened (1 to 5,000 characters).
        public var message: String
        /// The id `executionUrlTemplate` links to (1 to 1,500 characters).
        public var externalExecutionId: String?

        /// Creates a failure, clamping each text.
        public init(_ type: FailureType, _ message: String, externalExecutionId: String? = nil) {
            self.type = type
            self.message = APIText.clamped(message, to: APIText.message)
            self.externalExecutionId = externalExecutionId.map { APIText.clamped($0, to: APIText.executionId) }
        }
    }
}

/// The model's text lengths, and clamping to them.
public enum APIText {
    /// `ExecutionSummary`.
    public static let summary = 2048
    /// `ExecutionId`.
    public static let executionId = 1500
    /// `Message`.
    public static let message = 5000
    /// The total size of an action's output variables, in bytes (CodePipeline's quota).
    public static let outputVariablesBytes = 122_880

    /// `text` cut to at most `limit` UTF-16 units (what the service counts, and never fewer than
    /// the code points botocore counts), ending in "…" when cut, at a scalar boundary; an empty
    /// text (below the model's minimum of 1) becomes "-".
    public static func clamped(_ text: String, to limit: Int) -> String {
        guard !text.isEmpty else { return "-" }
        guard text.utf16.count > limit else { return text }
        var kept = String.UnicodeScalarView()
        var units = 0
        for scalar in text.unicodeScalars {
            let width = scalar.utf16.count
            guard units + width <= limit - 1 else { break }
            kept.append(scalar)
            units += width
        }
        return String(kept) + "…"
    }
}
