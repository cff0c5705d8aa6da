import AWSSigning
import HTTPCore
import MicroHTTPServer
import Synchronization

/// The checks every request passes before routing, and the limit on refusals. Each refusal is an
/// ordinary JSON error with an audit line (the audited layer writes it).
///
/// `check`, before routing:
/// - `Host` must name the address the sidecar listens on, with or without the port: a page in a
///   browser on the host that rebinds a DNS name to 127.0.0.1 sends its own name (DNS rebinding).
/// - `X-Forwarded-For`, `Forwarded` and `Origin` are refused: SDKs never send them; proxies and
///   browsers do (anti-SSRF, as the EC2 metadata service does).
/// - Request line plus headers at most `maxHeaderBytes`; no body (GET and HEAD carry none).
///
/// `throttle`, after a request was refused: a token bucket per client (the user owning the
/// connecting socket, so a user on many 127/8 addresses is one client; its address where the user
/// cannot be found), `ratePerSecond`
/// with `burst`, 429 with `Retry-After` once it is empty. Only refused requests draw from it (no
/// token, a wrong token, a gate refusal: where guessing and abuse live); a request the router
/// serves is never throttled, so a tool that asks for credentials on every AWS call (botocore,
/// the Java SDKs) is never slowed down by the sidecar.
public final class RequestGate: Sendable {
    /// A refusal.
    public struct Denial: Sendable, Equatable {
        public var status: Int
        public var code: DenialCode
        public var message: String
        public var retryAfter: Int?

        /// The refusal as an answer: its JSON error, and `Retry-After` when it has one.
        public var routed: Routed {
            var routed = Routed.refused(status, code, message)
            if let retryAfter { routed.response.headers.append("Retry-After", String(retryAfter)) }
            return routed
        }
    }

    private let allowedHosts: Set<String>
    private let settings: GateSettings
    private let buckets = Mutex<[ConnectionOwner: Bucket]>([:])
    private let uptime: MonotonicClock

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    /// Creates a gate for a sidecar bound to `host:port`.
    /// - Parameter uptime: the clock the token buckets fill on.
    public init(host: String, port: Int, settings: GateSettings, uptime: MonotonicClock = .system) {
        var names = [URLHost.bracketed(host)]
        if URLHost.isLoopbackAddress(host) { names.append("localhost") }
        allowedHosts = Set(names.flatMap { [$0, "\($0):\(port)"] })
        self.settings = settings
        self.uptime = uptime
    }

    /// The refusal for `request`, or nil to let it through to the router.
    /// The fields only a proxy or a browser sends, in the order a refusal names them.
    private static let refusedFields = ["X-Forwarded-For", "Forwarded", "Origin"]

    public func check(_ request: ServerRequest) -> Denial? {
        // One pass over the headers: the Host fields, the first proxy or browser field, the size.
        var host: String?
        var hosts = 0
        var refused: UInt8 = 0  // bit i: a field named refusedFields[i] is present
        var headerBytes = request.method.utf8.count + request.path.utf8.count + request.version.utf8.count + 4
        for (name, value) in request.headers {
            headerBytes += name.utf8.count + value.utf8.count + 4
            if HTTPHeaders.sameName(name, "Host") {
                hosts += 1
                host = value
            } else if let index = Self.refusedFields.firstIndex(where: { HTTPHeaders.sameName(name, $0) }) {
                refused |= 1 << index
            }
        }
        if let allowed = settings.allowedUsers {
            guard case .user(let uid) = request.clientOwner, uid == 0 || allowed.contains(uid) else {
                return Denial(
                    status: 403, code: .clientNotAllowed,
                    message: "this listener serves one job's build; the connection's user is not that build's")
            }
        }
        guard hosts == 1, let host, allowedHosts.contains(host) || allowedHosts.contains(host.lowercased()) else {
            return Denial(
                status: 403, code: .hostNotAllowed,
                message: "the Host header must name the address this sidecar listens on")
        }
        if refused != 0 {
            let forwarded = Self.refusedFields[refused.trailingZeroBitCount]
            return Denial(
                status: 403, code: .forwardedRequestRefused,
                message: "requests through a proxy or from a browser (\(forwarded)) are refused")
        }
        guard headerBytes <= settings.maxHeaderBytes else {
            return Denial(
                status: 431, code: .headersTooLarge,
                message: "the request line and headers exceed \(settings.maxHeaderBytes) bytes")
        }
        guard request.bodyLength == 0 else {
            return Denial(status: 413, code: .bodyNotAllowed, message: "requests to this sidecar carry no body")
        }
        return nil
    }

    /// For a request that is being refused: 429 if its client has used up its refusals, else nil
    /// (the refusal stands). Each call draws one token.
    public func throttle(_ client: ConnectionOwner) -> Denial? {
        guard settings.ratePerSecond > 0 else { return nil }
        let elapsed = uptime.now.components
        let now = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        let capacity = Double(max(1, settings.burst))
        let allowed = buckets.withLock { buckets -> Bool in
            if buckets.count > 4096 {
                buckets = buckets.filter { now - $0.value.updated < capacity / settings.ratePerSecond }
            }
            var bucket = buckets[client] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * settings.ratePerSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[client] = bucket
            return allowed
        }
        guard allowed else {
            return Denial(
                status: 429, code: .rateLimited,
                message:
                    "more than \(Int(settings.ratePerSecond)) refused requests per second from this "
                    + (client.uid == nil ? "address" : "user"),
                retryAfter: max(1, Int((1 / settings.ratePerSecond).rounded(.up))))
        }
        return nil
    }
}
