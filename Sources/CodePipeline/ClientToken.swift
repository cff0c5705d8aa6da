/// The secret client token of a third-party job. Prints as `(redacted)`.
public struct ClientToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The token. Read it only to put it in a request body.
    public let value: String

    /// Validates `value` (1 to 256 characters, no line breaks).
    /// - Throws: `CodePipelineError.invalidClientToken`, never quoting the token.
    public init(_ value: String) throws(CodePipelineError) {
        guard (1...256).contains(value.count), !value.contains("\n"), !value.contains("\r") else {
            throw CodePipelineError(
                .invalidClientToken,
                "a client token is 1 to 256 characters on one line (the file's content is not shown)")
        }
        self.value = value
    }

    public var description: String { "(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["value": "(redacted)"]) }
}
