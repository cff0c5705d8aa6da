/// Capped exponential backoff with full jitter, as the AWS SDKs retry.
///
/// The delay before retry *n* (1-based) is uniform in `0 ..< min(cap, base × 2^(n-1))`.
/// Randomness and sleeping are injected, so tests run instantly and deterministically.
///
/// Thread-safety: a value type; the closures must be `Sendable`.
public struct RetryPolicy: Sendable {
    /// How many attempts in all, the first included.
    public var maxAttempts: Int
    /// The backoff before the first retry, before jitter.
    public var base: Duration
    /// The longest backoff, before jitter.
    public var cap: Duration
    /// A uniform random number in `0 ..< 1`.
    public var random: @Sendable () -> Double
    /// Waits; throws if the wait is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// Creates a policy.
    public init(
        maxAttempts: Int = 5, base: Duration = .milliseconds(100), cap: Duration = .seconds(20),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = base
        self.cap = cap
        self.random = random
        self.sleep = sleep
    }

    /// The backoff before retry number `retry` (1 for the first retry).
    public func delay(beforeRetry retry: Int) -> Duration {
        Backoff(base: base, cap: cap).fullJitter(retry, random: random())
    }

    /// Runs `operation` until it succeeds, fails with an error `shouldRetry` rejects, or the
    /// attempts run out; the last error is rethrown.
    /// - Parameter onRetry: told of each failed attempt that will be retried, with the delay.
    public func run<Value, Failure: Error>(
        shouldRetry: (Failure) -> Bool,
        onRetry: (Failure, _ attempt: Int, _ delay: Duration) -> Void = { _, _, _ in },
        _ operation: (_ attempt: Int) async throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        var attempt = 1
        while true {
            do {
                return try await operation(attempt)
            } catch let failure {
                guard attempt < maxAttempts, shouldRetry(failure), !Task.isCancelled else { throw failure }
                let wait = delay(beforeRetry: attempt)
                onRetry(failure, attempt, wait)
                // A cancelled wait ends the retries with the last real failure.
                do { try await sleep(wait) } catch _ { throw failure }
                attempt += 1
            }
        }
    }
}
