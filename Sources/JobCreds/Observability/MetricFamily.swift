import Prometheus

/// Every metric family the sidecar exposes, with its help text. README's metrics list names each
/// one (a test holds them together).
public enum MetricFamily: Sendable, CaseIterable {
    case requests
    case requestsDenied
    case upstreamCalls
    case upstreamCallDuration
    case refreshes
    case refreshFailures
    case auditWriteFailures
    case auditTornLines
    case credentialsExpiry
    case jobActive
    case ready
    case buildInfo

    /// The exposed name, e.g. `jobcreds_requests_total`.
    public var name: String { descriptor.name }

    /// The registry's descriptor: namespace, name, unit and help.
    var descriptor: MetricNameDescriptor {
        let (metric, unit, help) =
            switch self {
            case .requests:
                ("requests", "total", "Requests answered on the credentials listener, by route and status.")
            case .requestsDenied: ("requests_denied", "total", "Requests refused, by the code in the error body.")
            case .upstreamCalls: ("upstream_calls", "total", "HTTP attempts to CodePipeline, by operation and outcome.")
            case .upstreamCallDuration:
                ("upstream_call_duration", "seconds", "How long HTTP attempts to CodePipeline took.")
            case .refreshes: ("refreshes", "total", "Credential fetches from CodePipeline that were stored.")
            case .refreshFailures:
                ("refresh_failures", "total", "Credential fetches that failed (the cached credentials stay served).")
            case .auditWriteFailures: ("audit_write_failures", "total", "Audit lines that could not be written.")
            case .auditTornLines:
                (
                    "audit_torn_lines", "total",
                    "Audit lines a full disk cut short, ended with a newline before the next line was written."
                )
            case .credentialsExpiry:
                (
                    "credentials_expiry", "seconds",
                    "Seconds until the served artifact credentials expire; 0 when none are served."
                )
            case .jobActive: ("job_active", "", "1 while the CodePipeline job is active, 0 once it has ended.")
            case .ready: ("ready", "", "1 while credentials are served (what /readyz reports).")
            case .buildInfo: ("build_info", "", "The running jobcreds version.")
            }
        return MetricNameDescriptor(namespace: "jobcreds", metricName: metric, unitName: unit, helpText: help)
    }
}
