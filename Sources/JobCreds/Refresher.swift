import AWSIdentity
import AWSSigning
import CodePipeline
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Keeps the cache filled: fetches at start-up, then in the background before expiry, with
/// exactly one upstream call in flight (it is the only caller), until the job ends or it is
/// cancelled. Requests never trigger a fetch.
public struct Refresher: Sendable {
    /// One fetch's outcome.
    public enum Outcome: Sendable, Equatable {
        case stored
        case failed
        case jobEnded
    }

    private let fetch: @Sendable () async throws(CodePipelineError) -> JobDetails
    private let cache: CredentialCache
    private let policy: RefreshPolicy
    private let clock: any WallClock
    private let audit: AuditLog
    private let logger: Logger
    private let metrics: SidecarMetrics?
    private let random: @Sendable () -> Double
    private let sleep: @Sendable (Duration) async throws -> Void

    /// Creates a refresher.
    public init(
        fetch: @escaping @Sendable () async throws(CodePipelineError) -> JobDetails, cache: CredentialCache,
        policy: RefreshPolicy, clock: any WallClock, audit: AuditLog, logger: Logger, metrics: SidecarMetrics? = nil,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.fetch = fetch
        self.cache = cache
        self.policy = policy
        self.clock = clock
        self.audit = audit
        self.logger = logger
        self.metrics = metrics
        self.random = random
        self.sleep = sleep
    }

    /// Fetches until cancelled or the job ends.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            let delay: Duration
            switch await refreshOnce() {
            case .stored:
                failures = 0
                guard let snapshot = cache.current.snapshot else { return }
                delay = policy.nextRefresh(for: snapshot, now: clock.now, random: random())
            case .failed:
                failures += 1
                delay = policy.retryDelay(afterFailures: failures, random: random())
            case .jobEnded:
                return
            }
            do { try await sleep(delay) } catch { return }
        }
    }

    /// One fetch, its outcome stored in the cache and written to the audit log.
    public func refreshOnce() async -> Outcome {
        let first = cache.current.snapshot == nil
        cache.beginFetch()
        do {
            let details = try await fetch()
            let snapshot = CredentialSnapshot(
                details: details, fetchedAt: clock.now, assumedLifetime: policy.assumedLifetime)
            cache.store(snapshot)
            metrics?.refreshed()
            audit.lifecycle(
                first ? "ready" : "refresh",
                [
                    ("access_key_id", details.artifactCredentials.accessKeyId),
                    ("expiration", AWSDate.iso8601(snapshot.expiresAt)),
                    ("expiration_source", details.artifactCredentials.expiration == nil ? "assumed" : "upstream"),
                ])
            return .stored
        } catch  where error.jobEnded {
            cache.endJob(reason: error.message)
            audit.lifecycle("job_ended", [("reason", error.code.rawValue), ("message", error.message)])
            logger.notice("the job has ended; credentials are no longer served", metadata: ["error": "\(error)"])
            return .jobEnded
        } catch {
            cache.fetchFailed(reason: error.code.rawValue)
            metrics?.refreshFailed()
            audit.lifecycle("refresh_failed", [("reason", error.code.rawValue), ("message", error.description)])
            logger.warning("fetching the job's credentials failed", metadata: ["error": "\(error)"])
            return .failed
        }
    }
}
