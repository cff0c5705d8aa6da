import Prometheus

/// The worker's metric families. README's worker metrics table lists each (a test holds them
/// together).
public enum WorkerMetricFamily: String, Sendable, CaseIterable {
    case jobs
    case jobsDropped
    case polls
    case buildsRunning
    case slots
    case buildDuration
    case reportAttempts

    /// The exposed name, e.g. `jobcreds_worker_jobs_total`.
    public var name: String { descriptor.name }

    var descriptor: MetricNameDescriptor {
        let (metric, unit, help) =
            switch self {
            case .jobs: ("jobs", "total", "Jobs reported, by outcome and failure type.")
            case .jobsDropped: ("jobs_dropped", "total", "Jobs let go without running or reporting them, by reason.")
            case .polls: ("polls", "total", "Polls for jobs, by result (jobs, empty, failed).")
            case .buildsRunning: ("builds_running", "", "Builds running now.")
            case .slots: ("slots", "", "Builds the worker runs at once.")
            case .buildDuration: ("build_duration", "seconds", "How long builds ran.")
            case .reportAttempts: ("report_attempts", "total", "Attempts to send a result, retries included.")
            }
        return MetricNameDescriptor(namespace: "jobcreds_worker", metricName: metric, unitName: unit, helpText: help)
    }
}
