import CodePipeline
import Prometheus
import Synchronization

/// The worker's Prometheus metrics. Every label value comes from a closed set: an outcome, a
/// `FailureType`, a drop reason, a poll result. No job id, no text from CodePipeline or the
/// build, nothing secret.
///
/// Thread-safety: the registry's counters and gauges are atomic.
public final class WorkerMetrics: Sendable {
    /// What a poll came back with.
    enum PollResult: String, CaseIterable { case jobs, empty, failed }

    /// How a job's report ended.
    enum Outcome: String, CaseIterable { case succeeded, failed, over }

    /// Why a job was let go.
    enum DropReason: String, CaseIterable {
        case invalidNonce = "invalid_nonce"
        case jobNotFound = "job_not_found"
        case status
        case noClientToken = "no_client_token"
        case acknowledgeFailed = "acknowledge_failed"
        case detailsFailed = "details_failed"
        case journalFailed = "journal_failed"
        case journalUnusable = "journal_unusable"

        /// Why an acknowledge that failed lets the job go: another worker has it, it is gone, or
        /// the call itself failed.
        init(acknowledgeFailure error: CodePipelineError) {
            switch error.code {
            case .invalidNonce: self = .invalidNonce
            case .jobNotFound: self = .jobNotFound
            default: self = .acknowledgeFailed
            }
        }
    }

    static let durationBuckets: [Duration] = [
        .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
        .seconds(4 * 3600), .seconds(23 * 3600),
    ]

    private let registry = PrometheusCollectorRegistry()
    private let running: Gauge
    private let slots: Gauge
    private let durations: DurationHistogram
    private let attempts: Counter
    private let ready = Atomic<Bool>(false)

    init(slots count: Int) {
        running = registry.makeGauge(descriptor: WorkerMetricFamily.buildsRunning.descriptor)
        slots = registry.makeGauge(descriptor: WorkerMetricFamily.slots.descriptor)
        durations = registry.makeDurationHistogram(
            descriptor: WorkerMetricFamily.buildDuration.descriptor, buckets: Self.durationBuckets)
        attempts = registry.makeCounter(descriptor: WorkerMetricFamily.reportAttempts.descriptor)
        slots.set(to: Double(count))
        for result in PollResult.allCases { _ = poll(result) }
        for reason in DropReason.allCases { _ = drop(reason) }
        _ = job(.succeeded, nil)
        for type in FailureType.allCases { _ = job(.failed, type) }
    }

    func polled(_ result: PollResult) { poll(result).increment() }
    func dropped(_ reason: DropReason) { drop(reason).increment() }
    func reported(_ outcome: Outcome, _ type: FailureType?, attempts count: Int) {
        job(outcome, type).increment()
        attempts.increment(by: Int64(count))
    }
    func buildStarted() { running.increment() }
    func buildFinished(after duration: Duration) {
        running.decrement()
        durations.record(duration)
    }

    /// Whether the worker takes jobs: it knows its action type's secret properties, its last poll
    /// answered, and it is not stopping (`/readyz`).
    var isReady: Bool { ready.load(ordering: .acquiring) }
    func setReady(_ value: Bool) { ready.store(value, ordering: .releasing) }

    /// The exposition text.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    private func poll(_ result: PollResult) -> Counter {
        registry.makeCounter(descriptor: WorkerMetricFamily.polls.descriptor, labels: [("result", result.rawValue)])
    }

    private func drop(_ reason: DropReason) -> Counter {
        registry.makeCounter(
            descriptor: WorkerMetricFamily.jobsDropped.descriptor, labels: [("reason", reason.rawValue)])
    }

    private func job(_ outcome: Outcome, _ type: FailureType?) -> Counter {
        registry.makeCounter(
            descriptor: WorkerMetricFamily.jobs.descriptor,
            labels: [("outcome", outcome.rawValue), ("failure_type", type?.rawValue ?? "none")])
    }
}
