/// Capped exponential backoff, the one backoff of the code: the step before retry *n* (1-based)
/// is `min(cap, base × 2^(n-1))`. `RetryPolicy` draws full jitter below the step (as the AWS SDKs
/// do); the refresher draws equal jitter (half the step, plus up to the other half).
///
/// Thread-safety: a value type.
public struct Backoff: Sendable, Equatable {
    /// The step before the first retry.
    public var base: Duration
    /// The largest step.
    public var cap: Duration

    /// Creates a backoff.
    public init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The step before retry `retry` (1 for the first), before jitter.
    public func step(_ retry: Int) -> Duration {
        min(cap, base * (1 << min(max(retry - 1, 0), 30)))
    }

    /// Full jitter: `random` (in `0 ..< 1`) of the step.
    public func fullJitter(_ retry: Int, random: Double) -> Duration {
        step(retry) * random
    }

    /// Equal jitter: half the step plus `random` (in `0 ..< 1`) of the other half.
    public func equalJitter(_ retry: Int, random: Double) -> Duration {
        step(retry) * (0.5 + 0.5 * random)
    }
}
