/// Every token the sidecar accepts, matched in constant time.
///
/// Thread-safety: a value; the audited layer swaps the whole set on SIGHUP.
public struct TokenGrants: Sendable {
    /// The grants, in the order of the options.
    public let grants: [TokenGrant]

    /// A set of `grants`.
    public init(_ grants: [TokenGrant]) {
        self.grants = grants
    }

    /// The grant whose token is `presented`, or nil. Every grant is compared, each in constant
    /// time, whichever matches: the time taken says nothing about which one did, or how far a
    /// guess got.
    public func match(_ presented: String) -> TokenGrant? {
        var found: TokenGrant?
        for grant in grants {
            let equal = grant.secret.equals(presented.utf8)
            if equal, found == nil { found = grant }
        }
        return found
    }
}
