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
/// Every family is a `MetricFamily`, and every label value comes from a closed set the sidecar
/// defines as a type: a `Route`, an HTTP status the sidecar produced, a `DenialCode`, a
/// `CodePipelineOperation` and an `UpstreamCall.Outcome`. Nothing a client sends (path, header,
/// address) and nothing secret becomes a label or a value.
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
        /// A presigned URL's route, whatever artifact was asked for.
        case artifactDownload = "/v1/artifacts/{name}/download"
        case artifactUpload = "/v1/artifacts/{name}/upload"
        case configuration = "/v1/configuration"
        case other
        /// The instance-metadata listener's paths (`--imds-listen`); a role's credentials are
        /// counted under `{role}`, whatever role was asked for.
        case metadataToken = "/latest/api/token"
        case metadataRoles = "/latest/meta-data/iam/security-credentials/"
        case metadataRole = "/latest/meta-data/iam/security-credentials/{role}"
        case metadataRegion = "/latest/meta-data/placement/region"

        /// The route of `path`: anything but the served paths is `other`.
        public init(path: String) {
            // The paths served most, first (a request pays for this).
            switch path {
            case "/v1/credentials": self = .credentials
            case "/v1/artifacts": self = .artifacts
            case "/healthz": self = .healthz
            case "/readyz": self = .readyz
            case "/v1/configuration": self = .configuration
            case Route.metadataToken.rawValue: self = .metadataToken
            case Route.metadataRoles.rawValue: self = .metadataRoles
            case Route.metadataRegion.rawValue: self = .metadataRegion
            default: self = Self.templated(path)
            }
        }

        /// A path with a variable part: a role's credentials, an artifact's URL; else `other`.
        private static func templated(_ path: String) -> Route {
            if path.hasPrefix(Route.metadataRoles.rawValue) && path != Route.metadataRole.rawValue {
                return .metadataRole
            } else if let (_, direction) = ArtifactURL.target(of: path), !path.contains("{") {
                return direction == .download ? .artifactDownload : .artifactUpload
            }
            return .other
        }

        /// The routes whose series exist from the start (the instance-metadata ones appear once used).
        static let counted: [Route] = [
            .credentials, .artifacts, .artifactDownload, .artifactUpload, .configuration, .healthz, .readyz, .other,
        ]
    }

    private struct RequestKey: Hashable {
        var route: Route
        var status: Int
    }

    /// The statuses the sidecar answers with (others are counted too, created on first use).
    static let knownStatuses = [200, 400, 401, 403, 404, 405, 410, 413, 429, 431, 503]
    /// Upper bounds of the upstream latency histogram.
    static let latencyBuckets: [Duration] = [
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    private let registry = PrometheusCollectorRegistry()
    private let requests: [RequestKey: Counter]
    private let denials: [DenialCode: Counter]
    private let refreshes: Counter
    private let refreshFailures: Counter
    private let auditWriteFailures: Counter
    private let auditTornLines: Counter
    private let secondsUntilExpiry: Gauge
    private let jobActive: Gauge
    private let ready: Gauge
    /// Serialises scrapes, which set the gauges just before rendering.
    private let scrape = Mutex(())

    /// Creates the metrics, every series of the closed label sets at zero.
    public init() {
        var requests: [RequestKey: Counter] = [:]
        for route in Route.counted {
            for status in Self.knownStatuses {
                requests[RequestKey(route: route, status: status)] = Self.requestCounter(registry, route, status)
            }
        }
        self.requests = requests
        var denials: [DenialCode: Counter] = [:]
        for code in DenialCode.allCases {
            denials[code] = registry.makeCounter(
                descriptor: MetricFamily.requestsDenied.descriptor, labels: [("reason", code.rawValue)])
        }
        self.denials = denials
        refreshes = registry.makeCounter(descriptor: MetricFamily.refreshes.descriptor)
        refreshFailures = registry.makeCounter(descriptor: MetricFamily.refreshFailures.descriptor)
        auditWriteFailures = registry.makeCounter(descriptor: MetricFamily.auditWriteFailures.descriptor)
        auditTornLines = registry.makeCounter(descriptor: MetricFamily.auditTornLines.descriptor)
        secondsUntilExpiry = registry.makeGauge(descriptor: MetricFamily.credentialsExpiry.descriptor)
        jobActive = registry.makeGauge(descriptor: MetricFamily.jobActive.descriptor)
        ready = registry.makeGauge(descriptor: MetricFamily.ready.descriptor)
        let info = registry.makeGauge(
            descriptor: MetricFamily.buildInfo.descriptor, labels: [("version", Version.current)])
        info.set(to: 1)
        jobActive.set(to: 1)
        for operation in CodePipelineOperation.allCases {
            _ = upstreamLatency(operation)
        }
    }

    // MARK: - Recording

    /// Counts one answered request; `denial` is the code of a refused one. The path is counted
    /// under its `Route`, never as sent.
    public func request(path: String, status: Int, denial: DenialCode?) {
        let route = Route(path: path)
        if let counter = requests[RequestKey(route: route, status: status)] {
            counter.increment()
        } else {
            Self.requestCounter(registry, route, status).increment()
        }
        if let denial { denials[denial]?.increment() }
    }

    /// Counts one upstream HTTP attempt and its latency.
    public func upstream(_ call: UpstreamCall) {
        registry.makeCounter(
            descriptor: MetricFamily.upstreamCalls.descriptor,
            labels: [("operation", call.operation.rawValue), ("outcome", call.outcome.rawValue)]
        ).increment()
        upstreamLatency(call.operation).record(call.latency)
    }

    /// Counts a fetch of the job's credentials: stored or failed.
    public func refresh(_ event: RefreshEvent) {
        switch event {
        case .stored: refreshes.increment()
        case .failed: refreshFailures.increment()
        case .jobEnded: break
        }
    }

    /// Counts an audit line that could not be written.
    public func auditWriteFailed() { auditWriteFailures.increment() }

    /// Counts a torn audit line ended before the next line.
    public func auditTornLineEnded() { auditTornLines.increment() }

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

    private func upstreamLatency(_ operation: CodePipelineOperation) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricFamily.upstreamCallDuration.descriptor, labels: [("operation", operation.rawValue)],
            buckets: Self.latencyBuckets)
    }

    private static func requestCounter(
        _ registry: PrometheusCollectorRegistry, _ route: Route, _ status: Int
    ) -> Counter {
        registry.makeCounter(
            descriptor: MetricFamily.requests.descriptor,
            labels: [("route", route.rawValue), ("status", String(status))])
    }
}
