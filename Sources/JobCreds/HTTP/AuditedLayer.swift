import AWSSigning
import CryptoPrimitives
import MicroHTTPServer
import Synchronization

/// A listener's handler: the one layer around its router (`SidecarRouter` on the credentials
/// listener, `MetadataRouter` on the instance-metadata one) that every request passes through,
/// in this order:
///
/// 1. a request id (`X-Request-Id`, and the audit line's `request_id`);
/// 2. the request gate's checks (`RequestGate`); until it is installed, 503 `Starting`;
/// 3. the router, given what the cache holds now and the current token;
/// 4. a refusal draws from its client address's token bucket: 429 once it is empty (an answer
///    the router serves never does);
/// 5. the audit line, written before the answer; if it cannot be written, credentials are not
///    handed out (503 `AuditUnavailable`);
/// 6. the metrics.
///
/// Thread-safety: called concurrently from the server's threads; the gate and token are each
/// behind a `Mutex`, the rest is immutable or thread-safe.
public final class AuditedLayer: ServerHandler {
    private let router: any Router
    private let listener: String?
    private let cache: CredentialCache
    private let tokens: Mutex<TokenGrants>
    private let gate = Mutex<RequestGate?>(nil)
    private let ids = RequestIDs()
    private let audit: AuditLog
    private let metrics: SidecarMetrics
    private let clock: any WallClock
    private let uploads: MultipartUploads?

    /// Creates the layer around `router`, serving what `cache` holds to holders of `tokens`.
    /// - Parameter listener: the name audit lines give the listener; nil for the credentials one.
    public init(
        router: any Router = SidecarRouter(), listener: String? = nil, cache: CredentialCache,
        tokens: TokenGrants, audit: AuditLog, metrics: SidecarMetrics, clock: any WallClock,
        uploads: MultipartUploads? = nil
    ) {
        self.uploads = uploads
        self.router = router
        self.listener = listener
        self.cache = cache
        self.tokens = Mutex(tokens)
        self.audit = audit
        self.metrics = metrics
        self.clock = clock
    }

    /// Installs the request gate (once the bound port is known). Until then every request is
    /// refused with 503.
    public func install(_ newGate: RequestGate) {
        gate.withLock { $0 = newGate }
    }

    /// Replaces the tokens tools may send (for rotation); the old ones are wiped as they are released.
    public func replaceTokens(_ newTokens: TokenGrants) {
        tokens.withLock { $0 = newTokens }
    }

    public func respond(to request: ServerRequest) -> ServerResponse {
        let requestId = ids.next()
        var routed = decide(request)
        if let pending = routed.pending, let uploads {
            // The multipart call is made here, between the decision and its audit line.
            let token = routed.decision.token
            routed = uploads.perform(
                pending.call, artifact: pending.artifact, token: pending.token, snapshot: pending.snapshot,
                now: clock.now)
            routed.decision.token = token
        }
        let written = audit.request(
            request, requestId: requestId, status: routed.response.status, decision: routed.decision,
            listener: listener)
        if !written, routed.decision.accessKeyId != nil {
            routed.response = JSONResponse.error(
                503, .auditUnavailable, "the audit log cannot be written; nothing is handed out")
        }
        routed.response.headers.append("X-Request-Id", requestId)
        metrics.request(path: request.path, status: routed.response.status, denial: routed.decision.denial)
        return routed.response
    }

    /// A head refused before parsing: its JSON error (429 instead, past its client's refusals), its
    /// `request` line, its count.
    public func refuse(_ request: RefusedRequest) -> ServerResponse {
        let requestId = ids.next()
        var (response, code) = JSONResponse.refusal(request)
        if let limited = gate.withLock({ $0 })?.throttle(request.owner) {
            (response, code) = (limited.routed.response, limited.code)
        }
        audit.refusedRequest(request, requestId: requestId, status: response.status, code: code, listener: listener)
        response.headers.append("X-Request-Id", requestId)
        metrics.request(path: request.line?.target ?? "", status: response.status, denial: code)
        return response
    }

    /// A connection closed before a request: one `connection_refused` line.
    public func connectionRefused(_ refusal: ConnectionRefusal) {
        audit.connectionRefused(refusal)
    }

    /// A request libmicrohttpd answered on its own (the accept loop's check should leave it nothing
    /// to refuse): its `request` line, and its count.
    public func requestNotServed(_ request: UnservedRequest) {
        audit.unservedRequest(request, requestId: ids.next(), listener: listener)
        metrics.request(path: request.target, status: request.status, denial: .malformedRequest)
    }

    /// What the router decides from: the cache and the tokens as they are now.
    private func context() -> RouteContext {
        let now = clock.now
        return RouteContext(credentials: cache.lookup(at: now), tokens: tokens.withLock { $0 }, now: now)
    }

    /// The gate's refusal or the router's answer; a refusal past its client's limit becomes 429.
    private func decide(_ request: ServerRequest) -> Routed {
        guard let gate = gate.withLock({ $0 }) else {
            return .refused(503, .starting, "the sidecar is starting")
        }
        var routed =
            gate.check(request)?.routed
            ?? router.route(request, context: context())
        if request.method == "HEAD" { routed.decision = routed.decision.answeringHead() }
        guard routed.decision.denial != nil, let limited = gate.throttle(request.clientOwner) else { return routed }
        return limited.routed
    }
}
