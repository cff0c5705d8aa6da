/// A validated CodePipeline job id. Validation happens before any call is made.
public struct JobID: Sendable, Hashable, CustomStringConvertible {
    /// Whether the job belongs to a custom action or to a third-party (partner) action.
    public enum Kind: String, Sendable {
        case custom
        case thirdParty = "third-party"
    }

    /// The id, as CodePipeline spells it.
    public let value: String
    /// The kind of job.
    public let kind: Kind

    /// Validates `value` as a job id of `kind`.
    /// - Throws: `CodePipelineError.invalidJobId` saying what is wrong (the id itself is not
    ///   secret and is quoted only when it is printable).
    public init(_ value: String, kind: Kind) throws(CodePipelineError) {
        switch kind {
        case .custom:
            guard Self.isUUID(value) else {
                throw CodePipelineError(
                    .invalidJobId,
                    "a custom action job id is a lower-case UUID such as f4f4ff82-2d11-4b3c-9e2d-0123456789ab; "
                        + "got \(Self.quoted(value))")
            }
        case .thirdParty:
            guard (1...512).contains(value.count),
                value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f })
            else {
                throw CodePipelineError(
                    .invalidJobId, "a third-party job id is 1 to 512 printable characters; got \(Self.quoted(value))")
            }
        }
        self.value = value
        self.kind = kind
    }

    public var description: String { value }

    /// `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`.
    static func isUUID(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isHex =
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                guard isHex else { return false }
            }
        }
        return true
    }

    private static func quoted(_ value: String) -> String {
        let printable = value.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7f }
        return printable && value.count <= 80 ? "'\(value)'" : "an unprintable or overlong value"
    }
}
