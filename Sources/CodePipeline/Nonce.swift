/// The nonce a poll hands out with a job: what proves to `AcknowledgeJob` that this worker took
/// it. Never logged, journaled or handed to the build; prints as `(redacted)`.
public struct Nonce: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The nonce. Read it only to put it in a request body.
    public let value: String

    /// Validates `value` (the model's `Nonce`: 1 to 50 characters).
    /// - Throws: `CodePipelineError.malformedResponse`, never quoting the nonce.
    public init(_ value: String) throws(CodePipelineError) {
        guard (1...50).contains(value.unicodeScalars.count) else {
            throw CodePipelineError(.malformedResponse, "a job's nonce is not 1 to 50 characters")
        }
        self.value = value
    }

    public var description: String { "(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["value": "(redacted)"]) }
}
