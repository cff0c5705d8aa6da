import AWSIdentity
import CryptoPrimitives
import MicroHTTPServer
import Synchronization

/// Answers the build tools, from memory only:
///
/// - `GET /healthz`: 200 while the process serves; no token.
/// - `GET /readyz`: 200 once credentials are cached, 503 otherwise; no token, no secret.
/// - `GET /v1/credentials`: the artifact credentials in the container-credentials format.
/// - `GET /v1/artifacts`: the artifact locations, encryption key and pipeline context.
///
/// Every request first passes the `RequestGate` (Host, proxies and browsers, sizes, body, rate).
/// Then any other method is 405; without `Authorization` 401; a wrong token 403 (compared in
/// constant time); an unknown path 404. Every answer is JSON, every error `{"code","message"}`, and every
/// request gets one audit line, written before the answer is sent. If that line cannot be written,
/// credentials are not handed out (503).
public final class SidecarRouter: ServerHandler {
    private let cache: CredentialCache
    private let token: Mutex<SecretBytes>
    private let audit: AuditLog
    private let clock: any WallClock
    private let ids = RequestIDs()
    private let gate = Mutex<RequestGate?>(nil)
    private let metrics: SidecarMetrics

    /// Creates a router; every answer is counted in `metrics`.
    public init(
        cache: CredentialCache, token: [UInt8], audit: AuditLog, clock: any WallClock,
        metrics: SidecarMetrics = SidecarMetrics()
    ) {
        self.cache = cache
        self.token = Mutex(SecretBytes(token))
        self.audit = audit
        self.clock = clock
        self.metrics = metrics
    }

    /// Installs the request gate (once the bound port is known). Until then every request is
    /// refused with 503.
    public func install(_ newGate: RequestGate) {
        gate.withLock { $0 = newGate }
    }

    /// Replaces the token tools must send (for rotation).
    public func replaceToken(_ newToken: [UInt8]) {
        token.withLock { $0 = SecretBytes(newToken) }  // the old one is wiped as it is released
    }

    public func respond(to request: ServerRequest) -> ServerResponse {
        let requestId = ids.next()
        var decision = AuditLog.Decision(
            requestId: requestId, status: 200, allowed: true, reason: "ok", accessKeyId: nil, expiration: nil)
        var response = route(request, &decision)
        decision.status = response.status
        if !audit.request(request, decision), decision.accessKeyId != nil {
            response = Self.error(503, "AuditUnavailable", "the audit log cannot be written; nothing is handed out")
        }
        response.headers.append(("X-Request-Id", requestId))
        metrics.request(
            path: request.path, status: response.status, denial: decision.allowed ? nil : decision.reason)
        return response
    }

    private func route(_ request: ServerRequest, _ decision: inout AuditLog.Decision) -> ServerResponse {
        func refuse(_ code: String, with response: ServerResponse) -> ServerResponse {
            decision.allowed = false
            decision.reason = code
            return response
        }
        func deny(_ status: Int, _ code: String, _ message: String) -> ServerResponse {
            refuse(code, with: Self.error(status, code, message))
        }
        guard let gate = gate.withLock({ $0 }) else {
            return deny(503, "Starting", "the sidecar is starting")
        }
        if let denial = gate.check(request) {
            var response = deny(denial.status, denial.code, denial.message)
            if let retryAfter = denial.retryAfter { response.headers.append(("Retry-After", String(retryAfter))) }
            return response
        }
        guard Self.isServed(request.method) else { return refuse("MethodNotAllowed", with: Self.methodNotAllowed()) }
        switch request.path {
        case "/healthz":
            return Self.json(200, #"{"status":"ok"}"#)
        case "/readyz":
            return readiness(&decision)
        default:
            break
        }
        guard let presented = request.header("Authorization") else {
            return deny(
                401, "MissingToken", "send the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE in Authorization")
        }
        let expected = token.withLock { $0 }
        guard expected.equals(presented.utf8) else {
            return deny(403, "InvalidToken", "the Authorization token is not the one this sidecar serves")
        }
        switch request.path {
        case "/v1/credentials", "/v1/artifacts":
            switch cache.lookup(at: clock.now) {
            case .serve(let snapshot):
                if request.path == "/v1/credentials" {
                    decision.reason = "credentials"
                    decision.accessKeyId = snapshot.details.artifactCredentials.accessKeyId
                    decision.expiration = snapshot.expiresAt
                    return Self.json(200, snapshot.credentialsBody.copy())
                }
                decision.reason = "artifacts"
                return Self.json(200, snapshot.artifactsBody)
            case .unavailable(let reason):
                var response = deny(503, "CredentialsUnavailable", reason)
                response.headers.append(("Retry-After", "1"))
                return response
            case .jobEnded:
                return deny(410, "JobEnded", "the CodePipeline job has ended; its credentials are no longer served")
            }
        default:
            return deny(404, "NotFound", "no such path; try /v1/credentials or /v1/artifacts")
        }
    }

    private func readiness(_ decision: inout AuditLog.Decision) -> ServerResponse {
        switch cache.lookup(at: clock.now) {
        case .serve:
            decision.reason = "ready"
            return Self.json(200, #"{"status":"ready"}"#)
        case .unavailable(let reason):
            decision.reason = "not_ready"
            return Self.error(503, "NotReady", reason)
        case .jobEnded:
            decision.reason = "job_ended"
            return Self.error(503, "JobEnded", "the CodePipeline job has ended")
        }
    }

    // MARK: - Responses

    static let commonHeaders: [(name: String, value: String)] = [
        ("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
    ]

    static func json(_ status: Int, _ body: [UInt8]) -> ServerResponse {
        ServerResponse(status: status, headers: commonHeaders, body: body)
    }

    static func json(_ status: Int, _ body: String) -> ServerResponse {
        json(status, Array(body.utf8))
    }

    /// Whether `method` is one the sidecar's listeners serve (GET and HEAD).
    static func isServed(_ method: String) -> Bool {
        method == "GET" || method == "HEAD"
    }

    /// The 405 answer for any other method, with its `Allow` header.
    static func methodNotAllowed() -> ServerResponse {
        var response = error(405, "MethodNotAllowed", "only GET and HEAD are served")
        response.headers.append(("Allow", "GET, HEAD"))
        return response
    }

    /// `{"code","message"}`: never shaped like credentials.
    static func error(_ status: Int, _ code: String, _ message: String) -> ServerResponse {
        json(status, JSONText.object([("code", JSONText.quote(code)), ("message", JSONText.quote(message))]))
    }
}
