import AWSSigning

/// Static keys from a profile of the shared files: `AWS_SHARED_CREDENTIALS_FILE` (default
/// `~/.aws/credentials`) first, then `AWS_CONFIG_FILE` (default `~/.aws/config`). The profile is
/// `AWS_PROFILE`, else `default`.
public struct ProfileProvider: CredentialProvider {
    public let name: String
    private let credentials: Credentials

    /// The provider, if the selected profile holds keys.
    /// - Returns: nil when the files or the `default` profile do not exist.
    /// - Throws: `IdentityError.misconfigured` when `AWS_PROFILE` names a profile that does not
    ///   exist or holds no usable keys.
    public static func configured(in environment: [String: String]) throws(IdentityError) -> ProfileProvider? {
        let explicit = environment.nonEmpty("AWS_PROFILE")
        let profile = explicit ?? "default"
        let provider = "profile:\(profile)"
        let home = environment.nonEmpty("HOME") ?? "/root"
        let credentialsPath = environment.nonEmpty("AWS_SHARED_CREDENTIALS_FILE") ?? "\(home)/.aws/credentials"
        let configPath = environment.nonEmpty("AWS_CONFIG_FILE") ?? "\(home)/.aws/config"

        let files = [
            FileText.read(credentialsPath).map { SharedConfigFile($0, isConfigFile: false) },
            FileText.read(configPath).map { SharedConfigFile($0, isConfigFile: true) },
        ].compactMap { $0 }
        let sections = files.compactMap { $0.profiles[profile] }
        guard !sections.isEmpty else {
            guard explicit == nil else {
                throw IdentityError(
                    .misconfigured, provider: provider,
                    "AWS_PROFILE names profile '\(profile)', which is in neither \(credentialsPath) nor \(configPath)")
            }
            return nil
        }
        for section in sections {
            let keyId = section["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
            let secret = section["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
            if let keyId, let secret {
                let token = section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
                return ProfileProvider(
                    name: provider,
                    credentials: Credentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: token))
            }
            if keyId != nil || secret != nil {
                throw IdentityError(
                    .misconfigured, provider: provider,
                    "the profile has only one of aws_access_key_id and aws_secret_access_key: set both")
            }
        }
        let unsupported = ["role_arn", "credential_process", "sso_session", "sso_start_url"]
            .filter { key in sections.contains { $0[key] != nil } }
        if !unsupported.isEmpty {
            throw IdentityError(
                .misconfigured, provider: provider,
                "the profile uses \(unsupported.joined(separator: ", ")), which jobcreds does not support; "
                    + "give it static keys, or use web identity, container or instance credentials")
        }
        guard explicit == nil else {
            throw IdentityError(
                .misconfigured, provider: provider,
                "the profile holds no aws_access_key_id / aws_secret_access_key")
        }
        return nil
    }

    public func fetch() async throws(IdentityError) -> Credentials { credentials }
}
