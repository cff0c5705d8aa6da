import HTTPTransport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// When to fetch fresh artifact credentials: pure arithmetic, tested on its own.
///
/// botocore refreshes container credentials 15 minutes before `Expiration` and raises if the
/// refreshed ones still have less than 10 minutes left. So served credentials must keep more
/// than `minimumServedLife` (10 minutes plus a margin) whenever upstream allows: the next fetch
/// is planned at 40-60 % of the slack above that floor, leaving room for retries before the
/// floor is reached. With the default 15-minute lifetime that is every 1.4-2.1 minutes.
///
/// Shorter credentials (a short `expirationTime`, or a short `--credential-lifetime`) cannot keep
/// that floor; they must still sign URLs, which end `ArtifactURL.credentialMargin` before the
/// credentials do. So the next fetch is planned at 40-60 % of the slack above
/// `minimumSigningLife`, and only credentials shorter than that are fetched again at 40-60 % of
/// their remaining life.
public struct RefreshPolicy: Sendable {
    /// How long credentials are assumed valid when CodePipeline gives no expiry.
    public var assumedLifetime: Duration
    /// The life served credentials should keep.
    public var minimumServedLife: TimeInterval = 690
    /// The life credentials that sign URLs should keep: the URLs' margin, plus a few seconds.
    public var minimumSigningLife: TimeInterval = ArtifactURL.credentialMargin + 5
    /// The shortest and longest wait between successful fetches.
    public var shortestInterval: TimeInterval = 1
    public var longestInterval: TimeInterval = 600
    /// Backoff after failures (equal jitter: half the step, plus up to the other half).
    public var retry = Backoff(base: .seconds(1), cap: .seconds(30))

    /// Creates a policy.
    public init(assumedLifetime: Duration = .seconds(900)) {
        self.assumedLifetime = assumedLifetime
    }

    /// The wait before the next fetch, after `snapshot` was stored at `now`.
    /// - Parameter random: a draw in `0 ..< 1`, for jitter.
    public func nextRefresh(for snapshot: CredentialSnapshot, now: Date, random: Double) -> Duration {
        let remaining = snapshot.expiresAt.timeIntervalSince(now)
        let floor = [minimumServedLife, minimumSigningLife].first { $0 < remaining } ?? 0
        let base = (remaining - floor) * (0.4 + 0.2 * random)
        return .milliseconds(Int64(min(longestInterval, max(shortestInterval, base)) * 1000))
    }

    /// The wait before retrying after `failures` consecutive failed fetches (1 for the first):
    /// capped exponential backoff with jitter between half and all of the step.
    public func retryDelay(afterFailures failures: Int, random: Double) -> Duration {
        .milliseconds(retry.equalJitter(failures, random: random).wholeMilliseconds)
    }
}
