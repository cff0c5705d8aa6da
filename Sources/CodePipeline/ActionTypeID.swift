/// Which action type a job is for: what `ListActionTypes` declares, matched on all four fields.
public struct ActionTypeID: Sendable, Hashable {
    /// `Build`, `Test`, `Deploy`, …
    public var category: String
    /// `Custom` for a custom action, `ThirdParty` for a partner's.
    public var owner: String
    /// The provider name.
    public var provider: String
    /// The version.
    public var version: String

    /// The owners `ListActionTypes` filters on (`actionOwnerFilter`).
    public static let owners: Set<String> = ["AWS", "ThirdParty", "Custom"]

    /// Creates an action type id.
    public init(category: String, owner: String, provider: String, version: String) {
        self.category = category
        self.owner = owner
        self.provider = provider
        self.version = version
    }
}
