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
/// cancelled. Requests never trigger a fetch. Each fetch's outcome goes to `observer` (the
/// audit log and the metrics record it; the refresher holds neither).
public struct Refresher: Sendable {
    /// One fetch's outcome.
    public enum Outcome: Sendable, Equatable {
        case stored
        case failed
        case jobEnded
    }

    private let fetch: @Sendable () async throws(CodePipelineError) -> Fetched
    private let cache: CredentialCache
    private let policy: RefreshPolicy
    private let clock: any WallClock
    private let observer: @Sendable (RefreshEvent) -> Void
    private let logger: Logger
    private let random: @Sendable () -> Double
    private let sleep: @Sendable (Duration) async throws -> Void

    /// Creates a refresher.
    /// - Parameter observer: told of every fetch's outcome.
    public init(
        fetch: @escaping @Sendable () async throws(CodePipelineError) -> Fetched, cache: CredentialCache,
        policy: RefreshPolicy, clock: any WallClock, observer: @escaping @Sendable (RefreshEvent) -> Void,
        logger: Logger, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.fetch = fetch
        self.cache = cache
        self.policy = policy
        self.clock = clock
        self.observer = observer
        self.logger = logger
        self.random = random
        self.sleep = sleep
    }

    /// Fetches until cancelled or the job ends.
    /// - Parameter seeded: the cache was seeded with credentials (a poll's answer): the first
    ///   fetch waits until they are due for a refresh.
    public func run(seeded: Bool = false) async {
        if seeded, let snapshot = cache.current.snapshot {
            let delay = policy.nextRefresh(for: snapshot, now: clock.now, random: random())
            do { try await sleep(delay) } catch { return }
        }
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

    /// One fetch, its outcome stored in the cache and told to the observer.
    public func refreshOnce() async -> Outcome {
        let first = cache.current.snapshot == nil
        cache.beginFetch()
        do throws(CodePipelineError) {
            let fetched = try await fetch()
            let now = clock.now
            let snapshot = CredentialSnapshot(
                details: fetched.details, fetchedAt: now, assumedLifetime: policy.assumedLifetime,
                configuration: fetched.configuration)
            // Credentials past their serving time are an unusable answer: a failure (with its
            // backoff), never stored over ones that are still valid.
            guard snapshot.servableUntil > now else {
                throw CodePipelineError(
                    .malformedResponse, "the job document's artifact credentials expire too soon to be served")
            }
            cache.store(snapshot)
            observer(.stored(snapshot, first: first))
            return .stored
        } catch  where error.jobEnded {
            cache.endJob(reason: error.message)
            observer(.jobEnded(error))
            logger.notice("the job has ended; credentials are no longer served", metadata: ["error": "\(error)"])
            return .jobEnded
        } catch {
            cache.fetchFailed(reason: error.code.rawValue)
            observer(.failed(error))
            logger.warning("fetching the job's credentials failed", metadata: ["error": "\(error)"])
            return .failed
        }
    }
}
