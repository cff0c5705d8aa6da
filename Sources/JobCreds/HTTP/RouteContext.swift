#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a router decides from besides the request: what the cache holds, the tokens and their
/// scopes, and the time (presigned URLs are signed at it). The audited layer gathers it once per
/// request.
public struct RouteContext: Sendable {
    /// What the cache holds now.
    public var credentials: CredentialCache.Lookup
    /// The tokens tools may send.
    public var tokens: TokenGrants
    /// Now.
    public var now: Date

    /// Creates a context.
    public init(credentials: CredentialCache.Lookup, tokens: TokenGrants, now: Date) {
        self.credentials = credentials
        self.tokens = tokens
        self.now = now
    }
}
