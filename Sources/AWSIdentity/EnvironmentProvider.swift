import AWSSigning

/// Static keys from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
public struct EnvironmentProvider: CredentialProvider {
    public let name = "environment"
    private let credentials: Credentials

    /// The provider, if the environment names keys.
    /// - Returns: nil when neither key variable is set.
    /// - Throws: `IdentityError.misconfigured` when only one of the pair is set.
    public static func configured(in environment: [String: String]) throws(IdentityError) -> EnvironmentProvider? {
        let keyId = environment.nonEmpty("AWS_ACCESS_KEY_ID")
        let secret = environment.nonEmpty("AWS_SECRET_ACCESS_KEY")
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case (let keyId?, let secret?):
            let token = environment.nonEmpty("AWS_SESSION_TOKEN")
            return EnvironmentProvider(
                credentials: Credentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: token))
        case (nil, _):
            throw IdentityError(
                .misconfigured, provider: "environment",
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither")
        case (_, nil):
            throw IdentityError(
                .misconfigured, provider: "environment",
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither")
        }
    }

    public func fetch() async throws(IdentityError) -> Credentials { credentials }
}

extension [String: String] {
    /// The value of `name`, or nil when it is unset or empty.
    func nonEmpty(_ name: String) -> String? {
        guard let value = self[name], !value.isEmpty else { return nil }
        return value
    }
}
