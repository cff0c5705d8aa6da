#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An AWS access key, its secret and an optional session token.
///
/// Prints as `AKIA…WXYZ (redacted)`: the secret and the token never appear in `description`,
/// `debugDescription`, string interpolation or `dump`.
public struct Credentials: Sendable, Equatable {
    /// The access key id (`AKIA…`, `ASIA…`). Not secret: it identifies the key in CloudTrail.
    public let accessKeyId: String
    /// The secret access key.
    public let secretAccessKey: String
    /// The session token of temporary credentials.
    public let sessionToken: String?
    /// When the credentials stop working, if known.
    public let expiration: Date?

    /// Creates credentials.
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// The access key id shortened to its first four and last four characters.
    public var redactedAccessKeyId: String {
        guard accessKeyId.count > 8 else { return "…" }
        return "\(accessKeyId.prefix(4))…\(accessKeyId.suffix(4))"
    }
}

extension Credentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "\(redactedAccessKeyId) (redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyId": redactedAccessKeyId, "secret": "(redacted)"], displayStyle: .struct)
    }
}
