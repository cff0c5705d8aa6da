import CryptoPrimitives

/// A token the sidecar accepts: its secret, the label audit lines name it by, and its scopes.
///
/// Thread-safety: immutable; the secret is wiped when the last copy is released.
public struct TokenGrant: Sendable {
    /// The file's base name.
    public let label: String
    /// What the token may ask for.
    public let scopes: Set<TokenScope>
    /// The token.
    public let secret: SecretBytes

    /// A grant of `scopes` to `token`, named `label`.
    public init(label: String, scopes: Set<TokenScope>, token: some Collection<UInt8>) {
        self.label = label
        self.scopes = scopes
        secret = SecretBytes(token)
    }
}
