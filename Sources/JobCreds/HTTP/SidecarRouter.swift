import CryptoPrimitives
import MicroHTTPServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Answers the build tools, from what it is given alone: a pure function of the request, what
/// the cache holds and the tokens with their scopes, with no audit log, clock, metrics or lock in
/// sight. The audited
/// layer around it (`AuditedLayer`) gates the request first, writes the audit line and counts.
///
/// - `GET /healthz`: 200 while the process serves; no token.
/// - `GET /readyz`: 200 once credentials are cached, 503 otherwise; no token, no secret.
/// - `GET /v1/credentials`: the artifact credentials in the container-credentials format.
/// - `GET /v1/artifacts`: the artifact locations, encryption key and pipeline context.
/// - `GET /v1/artifacts/{name}/download` and `/upload`: a presigned URL for one input or output
///   artifact (`ArtifactURL`), so a build step can move it without holding credentials.
/// - `GET /v1/configuration`: the action's non-secret configuration (`ConfigurationAnswer`), with
///   `--expose-configuration`.
///
/// Any other method is 405; without `Authorization` 401; a wrong token 403 (every token compared,
/// each in constant time); an unknown path 404; a token without the route's scope 403
/// `ScopeNotGranted`. Every answer is JSON, every error `{"code","message"}`.
public struct SidecarRouter: Router {
    private let settings: RoutingSettings

    /// Creates a router.
    public init(settings: RoutingSettings = RoutingSettings()) {
        self.settings = settings
    }

    public func route(_ request: ServerRequest, context: RouteContext) -> Routed {
        let multipart = MultipartRoute(path: request.path)
        guard JSONResponse.isServed(request.method) || multipart?.action.method == request.method else {
            return Routed(JSONResponse.methodNotAllowed(), Decision(.refused(.methodNotAllowed)))
        }
        switch request.path {
        case "/healthz":
            return Routed(JSONResponse.json(200, #"{"status":"ok"}"#), Decision(.served(.ok)))
        case "/readyz":
            return readiness(context.credentials)
        default:
            break
        }
        guard let presented = request.header("Authorization") else {
            return .refused(
                401, .missingToken, "send the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE in Authorization")
        }
        guard let grant = context.tokens.match(presented) else {
            return .refused(403, .invalidToken, "the Authorization token is not the one this sidecar serves")
        }
        var routed = authorized(request, context: context, grant: grant)
        routed.decision.token = grant.label
        return routed
    }

    /// What a path asks for, and the scope it needs.
    private enum Target {
        case credentials
        case artifacts
        case artifactURL(name: Substring, ArtifactURL.Direction)
        case configuration
        case multipart(MultipartRoute)

        init?(path: String) {
            if let route = MultipartRoute(path: path) {
                self = .multipart(route)
                return
            }
            switch path {
            case "/v1/credentials": self = .credentials
            case "/v1/artifacts": self = .artifacts
            case "/v1/configuration": self = .configuration
            default:
                guard let (name, direction) = ArtifactURL.target(of: path) else { return nil }
                self = .artifactURL(name: name, direction)
            }
        }

        var scope: TokenScope {
            switch self {
            case .credentials: .credentials
            case .artifacts: .artifacts
            case .artifactURL(_, .download): .download
            case .artifactURL(_, .upload), .multipart: .upload
            case .configuration: .configuration
            }
        }
    }

    /// The answer to a request whose token matched `grant`.
    private func authorized(_ request: ServerRequest, context: RouteContext, grant: TokenGrant) -> Routed {
        guard let target = Target(path: request.path) else {
            return .refused(404, .notFound, "no such path; try /v1/credentials or /v1/artifacts")
        }
        guard grant.scopes.contains(target.scope) else {
            return .refused(
                403, .scopeNotGranted, "this token (\(grant.label)) is not granted the \(target.scope.rawValue) scope")
        }
        if case .multipart(let route) = target, request.method != route.action.method {
            return .refused(405, .methodNotAllowed, "this path takes \(route.action.method)")
        }
        var binding: ArtifactURL.Binding?
        if case .artifactURL(_, let direction) = target {
            switch Self.binding(request.query, direction) {
            case .success(let parsed): binding = parsed
            case .failure(let refusal): return refusal.routed
            }
        }
        let snapshot: CredentialSnapshot
        switch context.credentials {
        case .serve(let served): snapshot = served
        case .unavailable(let reason): return .credentialsUnavailable(reason)
        case .jobEnded: return .jobEnded()
        }
        switch target {
        case .credentials:
            return Routed(
                JSONResponse.json(200, snapshot.credentialsBody.copy()),
                Decision(
                    .served(.credentials), accessKeyId: snapshot.details.artifactCredentials.accessKeyId,
                    expiration: snapshot.expiresAt))
        case .artifacts:
            return Routed(JSONResponse.json(200, snapshot.artifactsBody), Decision(.served(.artifacts)))
        case .artifactURL(let name, let direction):
            return artifactURL(name, direction, binding: binding, snapshot: snapshot, now: context.now)
        case .configuration:
            return configuration(snapshot)
        case .multipart(let route):
            return multipart(route, request.query, snapshot: snapshot, token: grant.label)
        }
    }

    /// A multipart call checked for its shape and artifact, handed to the layer to make.
    private func multipart(
        _ route: MultipartRoute, _ query: [QueryItem], snapshot: CredentialSnapshot, token: String
    ) -> Routed {
        guard settings.s3 != nil else { return .refused(404, .notFound, "this sidecar issues no presigned URLs") }
        let call: MultipartUploads.Call
        switch route.action {
        case .create:
            guard
                let artifact = snapshot.details.outputArtifacts.first(where: {
                    $0.name.utf8.elementsEqual(route.artifact.utf8)
                })
            else {
                return .refused(404, .artifactNotFound, "the job has no output artifact of that name")
            }
            guard let (length, partSize) = MultipartRoute.creation(query) else {
                return .refused(
                    400, .invalidUpload,
                    "a multipart upload takes ?length=N&part_size=P: P from 5 MiB to 5 GiB, at most 10,000 parts, "
                        + "N up to 5 TiB")
            }
            call = .create(artifact: artifact, length: length, partSize: partSize)
        case .parts(let id):
            guard let (first, sums) = MultipartRoute.parts(query) else {
                return .refused(
                    400, .invalidUpload, "part URLs take ?first=N&sha256=HEX,HEX… (1 to 32 SHA-256s in hex)")
            }
            call = .partURLs(id: id, first: first, sha256: sums)
        case .complete(let id):
            guard query.isEmpty else { return .refused(400, .invalidQuery, "complete takes no query") }
            call = .complete(id: id)
        case .abort(let id):
            guard query.isEmpty else { return .refused(400, .invalidQuery, "abort takes no query") }
            call = .abort(id: id)
        }
        var routed = Routed.refused(404, .notFound, "this sidecar runs no multipart uploads")
        routed.pending = Routed.Pending(call: call, artifact: String(route.artifact), token: token, snapshot: snapshot)
        return routed
    }

    private func configuration(_ snapshot: CredentialSnapshot) -> Routed {
        switch snapshot.configuration {
        case .notExposed:
            return .refused(404, .notFound, "this sidecar does not expose the configuration (--expose-configuration)")
        case .unavailable(let reason):
            return .refused(503, .configurationUnavailable, "no configuration value is shown: \(reason)")
        case .available:
            return Routed(JSONResponse.json(200, snapshot.configurationBody), Decision(.served(.configuration)))
        }
    }

    private func artifactURL(
        _ name: Substring, _ direction: ArtifactURL.Direction, binding: ArtifactURL.Binding?,
        snapshot: CredentialSnapshot, now: Date
    ) -> Routed {
        let details = snapshot.details
        let candidates = direction == .download ? details.inputArtifacts : details.outputArtifacts
        guard let artifact = candidates.first(where: { $0.name.utf8.elementsEqual(name.utf8) }) else {
            let side = direction == .download ? "input" : "output"
            return .refused(404, .artifactNotFound, "the job has no \(side) artifact of that name")
        }
        guard let s3 = settings.s3 else {
            return .refused(404, .notFound, "this sidecar issues no presigned URLs")
        }
        guard
            let url = ArtifactURL.sign(
                artifact, direction, binding: binding, details: details, expiresAt: snapshot.expiresAt, endpoint: s3,
                lifetime: settings.presignLifetime, now: now)
        else {
            return .credentialsUnavailable("the artifact credentials expire within a minute; a fresh set is on its way")
        }
        return Routed(
            JSONResponse.json(200, url.body),
            Decision(
                .served(direction == .download ? .downloadURL : .uploadURL),
                accessKeyId: details.artifactCredentials.accessKeyId, expiration: url.expiration,
                issued: Decision.IssuedURL(
                    artifact: artifact.name, method: direction.method, bucket: artifact.bucket, key: artifact.key)))
    }

    /// A refusal as a value, for `Result`.
    private struct Refusal: Error {
        var routed: Routed
    }

    /// An upload's `?sha256=HEX&length=N` (both or neither); a download takes no query.
    private static func binding(
        _ query: [QueryItem], _ direction: ArtifactURL.Direction
    ) -> Result<ArtifactURL.Binding?, Refusal> {
        guard !query.isEmpty else { return .success(nil) }
        let refusal = Refusal(
            routed: .refused(
                400, .invalidQuery,
                direction == .download
                    ? "a download URL takes no query"
                    : "an upload URL takes ?sha256=HEX&length=N (64 hex digits, a whole number of bytes up to 5 GiB), "
                        + "both or neither"))
        guard direction == .upload, query.count == 2,
            let hex = query.first(where: { $0.name == "sha256" })?.value,
            let lengthText = query.first(where: { $0.name == "length" })?.value,
            let sha256 = Hex.decode(hex), sha256.count == 32,
            lengthText.utf8.count <= 11, lengthText.utf8.allSatisfy({ (48...57).contains($0) }),
            let length = Int(lengthText), length <= 5 * 1024 * 1024 * 1024
        else { return .failure(refusal) }
        return .success(ArtifactURL.Binding(sha256: sha256, length: length))
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
