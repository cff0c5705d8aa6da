/// The key output artifacts must be encrypted with.
public struct EncryptionKey: Sendable, Equatable {
    /// The key id or ARN.
    public var id: String
    /// The key type; `KMS`.
    public var type: String

    /// Creates a key reference.
    public init(id: String, type: String) {
        self.id = id
        self.type = type
    }
}
