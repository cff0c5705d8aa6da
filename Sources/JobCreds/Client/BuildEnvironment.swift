/// The environment `jobcreds exec` gives the build's command.
///
/// The token goes into `AWS_CONTAINER_AUTHORIZATION_TOKEN` as well, for the SDKs from before the
/// file variable (the AWS CLI v2 before 2.13, the SDK for Go v1 and v2 of 2022, awscrt 0.16,
/// rclone 1.60, s5cmd 2.3); the file variable stays for the newer ones and for tools that read
/// only the file. The token in the environment is the one of the moment: it does not follow a
/// rotation (SIGHUP) as the file does.
public enum BuildEnvironment {
    /// The variable the older SDKs read the token from.
    public static let tokenVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN"

    /// What would make an SDK pick another identity before the container provider: static keys,
    /// a profile, web identity, and the ECS relative URI (most SDKs prefer it to the full URI).
    public static let removed = [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    ]

    /// `environment` with `removed` taken out and the token added.
    public static func prepared(_ environment: [String: String], for endpoint: ContainerEndpoint) -> [String: String] {
        var prepared = environment
        for name in removed { prepared[name] = nil }
        prepared[tokenVariable] = endpoint.token
        return prepared
    }
}
