import MicroHTTPServer

/// Answers the build tools, from what it is given alone: a pure function of the request, what
/// the cache holds and the tokens with their scopes, with no audit log, clock, metrics or lock in
/// sight. The audited
/// layer around it (`AuditedLayer`) gates the request first, writes the audit line and counts.
///
/// - `GET /healthz`: 200 while the process serves; no token.
/// - `GET /readyz`: 200 once credentials are cached, 503 otherwise; no token, no secret.
/// - `GET /v1/credentials`: the artifact credentials in the container-credentials format.
/// - `GET /v1/artifacts`: the artifact locations, encryption key and pipeline context.
///
/// Any other method is 405; without `Authorization` 401; a wrong token 403 (every token compared,
/// each in constant time); an unknown path 404; a token without the route's scope 403
/// `ScopeNotGranted`. Every answer is JSON, every error `{"code","message"}`.
public struct SidecarRouter: Router {
    /// Creates a router.
    public init() {}

    /// The answer to `request`.
    /// - Parameters:
    ///   - credentials: what the cache holds for this request.
    ///   - token: the token tools must send.
    public func route(_ request: ServerRequest, credentials: CredentialCache.Lookup, tokens: TokenGrants) -> Routed {
        guard JSONResponse.isServed(request.method) else {
            return Routed(JSONResponse.methodNotAllowed(), Decision(.refused(.methodNotAllowed)))
        }
        switch request.path {
        case "/healthz":
            return Routed(JSONResponse.json(200, #"{"status":"ok"}"#), Decision(.served(.ok)))
        case "/readyz":
            return readiness(credentials)
        default:
            break
        }
        guard let presented = request.header("Authorization") else {
            return .refused(
                401, .missingToken, "send the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE in Authorization")
        }
        guard let grant = tokens.match(presented) else {
            return .refused(403, .invalidToken, "the Authorization token is not the one this sidecar serves")
        }
        var routed = authorized(request, credentials: credentials, grant: grant)
        routed.decision.token = grant.label
        return routed
    }

    /// The answer to a request whose token matched `grant`.
    private func authorized(_ request: ServerRequest, credentials: CredentialCache.Lookup, grant: TokenGrant) -> Routed
    {
        let scope: TokenScope
        switch request.path {
        case "/v1/credentials": scope = .credentials
        case "/v1/artifacts": scope = .artifacts
        default: return .refused(404, .notFound, "no such path; try /v1/credentials or /v1/artifacts")
        }
        guard grant.scopes.contains(scope) else {
            return .refused(
                403, .scopeNotGranted, "this token (\(grant.label)) is not granted the \(scope.rawValue) scope")
        }
        switch credentials {
        case .serve(let snapshot):
            if scope == .credentials {
                return Routed(
                    JSONResponse.json(200, snapshot.credentialsBody.copy()),
                    Decision(
                        .served(.credentials), accessKeyId: snapshot.details.artifactCredentials.accessKeyId,
                        expiration: snapshot.expiresAt))
            }
            return Routed(JSONResponse.json(200, snapshot.artifactsBody), Decision(.served(.artifacts)))
        case .unavailable(let reason):
            return .credentialsUnavailable(reason)
        case .jobEnded:
            return .jobEnded()
        }
    }

    private func readiness(_ credentials: CredentialCache.Lookup) -> Routed {
        switch credentials {
        case .serve:
            return Routed(JSONResponse.json(200, #"{"status":"ready"}"#), Decision(.served(.ready)))
        case .unavailable(let reason):
            return Routed(JSONResponse.error(503, .notReady, reason), Decision(.served(.notReady)))
        case .jobEnded:
            return Routed(
                JSONResponse.error(503, .refused(.jobEnded), "the CodePipeline job has ended"),
                Decision(.served(.jobEnded)))
        }
    }
}
