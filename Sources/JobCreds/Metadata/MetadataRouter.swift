import MicroHTTPServer

/// The instance-metadata listener (`--imds-listen`): the EC2 instance metadata service's IMDSv2
/// credential paths, for clients that know no other way (the SDK for Ruby before 3.18x, PHP's
/// AsyncAws). Only what those clients ask for; no instance identity is invented.
///
/// - `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1 to 21600): a session
///   token; without a TTL in range, 400 `InvalidTokenTTL`.
/// - Every `GET` needs a session token in `X-aws-ec2-metadata-token`: 401 without (`MissingToken`)
///   or with one that is unknown or expired (`InvalidToken`), as the service answers.
/// - `GET /latest/meta-data/iam/security-credentials/`: the one role's name.
/// - `GET /latest/meta-data/iam/security-credentials/ROLE`: the credentials document.
/// - `GET /latest/meta-data/placement/region`: the region.
/// - Anything else: 404.
///
/// There is no shared secret: whoever reaches the port gets the credentials. The gate's checks
/// (Host, `X-Forwarded-For`, `Origin`) still apply, as the service refuses forwarded token PUTs.
public struct MetadataRouter: Router {
    /// The role name the credentials are listed under.
    public static let roleName = "jobcreds-artifacts"
    static let tokenPath = "/latest/api/token"
    static let rolesPath = "/latest/meta-data/iam/security-credentials/"
    static let regionPath = "/latest/meta-data/placement/region"
    static let ttlHeader = "X-aws-ec2-metadata-token-ttl-seconds"
    static let tokenHeader = "X-aws-ec2-metadata-token"

    private let sessions: MetadataSessions
    private let region: String

    /// A router issuing sessions from `sessions`, answering `region`.
    public init(sessions: MetadataSessions, region: String) {
        self.sessions = sessions
        self.region = region
    }

    public func route(_ request: ServerRequest, context: RouteContext) -> Routed {
        if request.path == Self.tokenPath {
            guard request.method == "PUT" else {
                return Routed(
                    JSONResponse.methodNotAllowed(allow: "PUT", message: "session tokens are made with PUT"),
                    Decision(.refused(.methodNotAllowed)))
            }
            return issue(request)
        }
        guard JSONResponse.isServed(request.method) else {
            return Routed(JSONResponse.methodNotAllowed(), Decision(.refused(.methodNotAllowed)))
        }
        guard let session = request.header(Self.tokenHeader) else {
            return .refused(
                401, .missingToken, "send a session token from PUT \(Self.tokenPath) in \(Self.tokenHeader)")
        }
        guard sessions.isValid(session) else {
            return .refused(401, .invalidToken, "the session token is unknown or has expired; PUT \(Self.tokenPath)")
        }
        switch request.path {
        case Self.rolesPath, String(Self.rolesPath.dropLast()):
            return Routed(JSONResponse.text(200, Self.roleName), Decision(.served(.metadata)))
        case Self.rolesPath + Self.roleName:
            return roleCredentials(context.credentials)
        case Self.regionPath:
            return Routed(JSONResponse.text(200, region), Decision(.served(.metadata)))
        default:
            return .refused(404, .notFound, "no such path on this instance-metadata listener")
        }
    }

    private func issue(_ request: ServerRequest) -> Routed {
        guard let text = request.header(Self.ttlHeader), let ttl = Int(text),
            (1...MetadataSessions.longestTTL).contains(ttl)
        else {
            return .refused(
                400, .invalidTokenTTL, "\(Self.ttlHeader) must be a number of seconds from 1 to 21600")
        }
        do {
            let session = try sessions.issue(ttl: ttl)
            return Routed(
                JSONResponse.text(200, session, headers: [(Self.ttlHeader, String(ttl))]),
                Decision(.served(.metadataToken)))
        } catch {
            return .refused(503, .credentialsUnavailable, "no session token could be made: \(error)")
        }
    }

    private func roleCredentials(_ credentials: CredentialCache.Lookup) -> Routed {
        switch credentials {
        case .serve(let snapshot):
            return Routed(
                JSONResponse.json(200, snapshot.metadataBody.copy()),
                Decision(
                    .served(.credentials), accessKeyId: snapshot.details.artifactCredentials.accessKeyId,
                    expiration: snapshot.expiresAt))
        case .unavailable(let reason):
            return .credentialsUnavailable(reason)
        case .jobEnded:
            return .jobEnded()
        }
    }
}
