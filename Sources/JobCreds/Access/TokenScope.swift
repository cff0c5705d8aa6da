/// What a token may ask for: each of the sidecar's routes needs one scope. A token file names its
/// scopes (`--token-file PATH:download,upload`); a bare path means `credentials,artifacts`.
public enum TokenScope: String, Sendable, CaseIterable, Comparable {
    /// `GET /v1/credentials`: the artifact credentials themselves.
    case credentials
    /// `GET /v1/artifacts`: where the artifacts are.
    case artifacts
    /// `GET /v1/artifacts/{name}/download`: a presigned URL to read one input artifact.
    case download
    /// `GET /v1/artifacts/{name}/upload`: a presigned URL to write one output artifact.
    case upload
    /// `GET /v1/configuration`: the action's non-secret configuration.
    case configuration

    /// What a bare token file path grants: what every token granted before scopes existed.
    public static let unscoped: Set<TokenScope> = [.credentials, .artifacts]

    public static func < (left: TokenScope, right: TokenScope) -> Bool {
        (allCases.firstIndex(of: left) ?? 0) < (allCases.firstIndex(of: right) ?? 0)
    }
}
