import CodePipeline
import Prometheus
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The sidecar's Prometheus metrics (swift-prometheus's registry renders the exposition format).
///
/// Every label value comes from a closed set the sidecar defines: a route (one of the served paths
/// or `other`), an HTTP status the sidecar produced, a denial code, an operation name and an
/// outcome code. Nothing a client sends (path, header, address) and nothing secret becomes a
/// label or a value.
///
/// Thread-safety: counters are atomic; the request counters are created up front so that the
/// request path takes no lock beyond the registry's for a status never seen before.
public final class SidecarMetrics: Sendable {
    /// The label a request's path is counted under.
    public enum Route: String, Sendable, CaseIterable {
        case credentials = "/v1/credentials"
        case artifacts = "/v1/artifacts"
        case healthz = "/healthz"
        case readyz = "/readyz"
        case other

        /// The route of `path`: anything but the four served paths is `other`.
        public init(path: String) {
            self = Route(rawValue: path) ?? .other
        }
    }

    private struct RequestKey: Hashable {
        var route: Route
        var status: Int
    }

    /// The statuses the sidecar answers with (others are counted too, created on first use).
    static let knownStatuses = [200, 400, 401, 403, 404, 405, 410, 413, 429, 431, 503]
    /// The denial codes of `SidecarRouter` and `RequestGate`.
    static let knownDenials = [
        "Starting", "HostNotAllowed", "ForwardedRequestRefused", "HeadersTooLarge", "BodyNotAllowed", "RateLimited",
        "MethodNotAllowed", "MissingToken", "InvalidToken", "NotFound", "CredentialsUnavailable", "JobEnded",
    ]
    /// Upper bounds of the upstream latency histogram.
    static let latencyBuckets: [Duration] = [
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    private let registry = PrometheusCollectorRegistry()
    private let requests: [RequestKey: Counter]
    private let denials: [String: Counter]
    private let refreshes: Counter
    private let refreshFailures: Counter
    private let auditWriteFailures: Counter
    private let secondsUntilExpiry: Gauge
    private let jobActive: Gauge
    private let ready: Gauge
    /// Serialises scrapes, which set the gauges just before rendering.
    private let scrape = Mutex(())

    /// Creates the metrics, every series of the closed label sets at zero.
    public init() {
        var requests: [RequestKey: Counter] = [:]
        for route in Route.allCases {
            for status in Self.knownStatuses {
                requests[RequestKey(route: route, status: status)] = Self.requestCounter(registry, route, status)
            }
        }
        self.requests = requests
        var denials: [String: Counter] = [:]
        for code in Self.knownDenials {
            denials[code] = Self.denialCounter(registry, code)
        }
        self.denials = denials
        refreshes = registry.makeCounter(
            descriptor: Self.name("refreshes", "total", "Credential fetches from CodePipeline that were stored."))
        refreshFailures = registry.makeCounter(
            descriptor: Self.name(
                "refresh_failures", "total", "Credential fetches that failed (the cached credentials stay served)."))
        auditWriteFailures = registry.makeCounter(
            descriptor: Self.name("audit_write_failures", "total", "Audit lines that could not be written."))
        secondsUntilExpiry = registry.makeGauge(
            descriptor: Self.name(
                "credentials_expiry", "seconds",
                "Seconds until the served artifact credentials expire; 0 when none are served."))
        jobActive = registry.makeGauge(
            descriptor: Self.name("job_active", "", "1 while the CodePipeline job is active, 0 once it has ended."))
        ready = registry.makeGauge(
            descriptor: Self.name("ready", "", "1 while credentials are served (what /readyz reports)."))
        let info = registry.makeGauge(
            descriptor: Self.name("build_info", "", "The running jobcreds version."),
            labels: [("version", Sidecar.version)])
        info.set(to: 1)
        jobActive.set(to: 1)
        for operation in ["GetJobDetails", "GetThirdPartyJobDetails"] {
            _ = upstreamLatency(operation)
        }
    }

    // MARK: - Recording

    /// Counts one answered request; `denial` is the code of a refused one.
    public func request(path: String, status: Int, denial: String?) {
        let route = Route(path: path)
        if let counter = requests[RequestKey(route: route, status: status)] {
            counter.increment()
        } else {
            Self.requestCounter(registry, route, status).increment()
        }
        guard let denial else { return }
        if let counter = denials[denial] {
            counter.increment()
        } else {
            Self.denialCounter(registry, "Other").increment()  // every known code has its counter
        }
    }

    /// Counts one upstream HTTP attempt and its latency.
    public func upstream(_ call: UpstreamCall) {
        let operation = Self.closed(call.operation, among: ["GetJobDetails", "GetThirdPartyJobDetails"])
        registry.makeCounter(
            descriptor: Self.name(
                "upstream_calls", "total", "HTTP attempts to CodePipeline, by operation and outcome."),
            labels: [("operation", operation), ("outcome", Self.outcomeLabel(call.outcome))]
        ).increment()
        upstreamLatency(operation).record(call.latency)
    }

    /// Counts a stored refresh.
    public func refreshed() { refreshes.increment() }

    /// Counts a failed refresh.
    public func refreshFailed() { refreshFailures.increment() }

    /// Counts an audit line that could not be written.
    public func auditWriteFailed() { auditWriteFailures.increment() }

    // MARK: - Rendering

    /// The exposition text, with the gauges read from `cache` at `now`.
    public func exposition(cache: CredentialCache, now: Date) -> [UInt8] {
        scrape.withLock { _ in
            switch cache.lookup(at: now) {
            case .serve(let snapshot):
                secondsUntilExpiry.set(to: max(0, snapshot.expiresAt.timeIntervalSince(now)).rounded(.down))
                ready.set(to: 1)
                jobActive.set(to: 1)
            case .unavailable:
                secondsUntilExpiry.set(to: 0)
                ready.set(to: 0)
                jobActive.set(to: 1)
            case .jobEnded:
                secondsUntilExpiry.set(to: 0)
                ready.set(to: 0)
                jobActive.set(to: 0)
            }
            return registry.emitToBuffer()
        }
    }

    // MARK: - Helpers

    private func upstreamLatency(_ operation: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.name("upstream_call_duration", "seconds", "How long HTTP attempts to CodePipeline took."),
            labels: [("operation", operation)], buckets: Self.latencyBuckets)
    }

    private static func requestCounter(
        _ registry: PrometheusCollectorRegistry, _ route: Route, _ status: Int
    ) -> Counter {
        registry.makeCounter(
            descriptor: name(
                "requests", "total", "Requests answered on the credentials listener, by route and status."),
            labels: [("route", route.rawValue), ("status", String(status))])
    }

    private static func denialCounter(_ registry: PrometheusCollectorRegistry, _ code: String) -> Counter {
        registry.makeCounter(
            descriptor: name("requests_denied", "total", "Requests refused, by the code in the error body."),
            labels: [("reason", code)])
    }

    /// Upstream outcomes are the client's error codes (`success`, `throttled`, `network`, ...):
    /// short identifiers. Anything else is counted as `other`.
    private static func outcomeLabel(_ outcome: String) -> String {
        let identifier =
            !outcome.isEmpty && outcome.utf8.count <= 32
            && outcome.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || $0 == 95 }
        return identifier ? outcome : "other"
    }

    private static func closed(_ value: String, among allowed: [String]) -> String {
        allowed.contains(value) ? value : "other"
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "jobcreds", metricName: metric, unitName: unit, helpText: help)
    }
}
