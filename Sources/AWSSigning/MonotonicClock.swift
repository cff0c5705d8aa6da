/// Monotonic time: how long since a fixed, arbitrary origin, never set back. Injected wherever an
/// interval is measured (the rate limiter's token buckets, upstream latencies), so tests move it
/// by hand instead of sleeping.
///
/// Thread-safety: a value; the reading closure must be `Sendable`.
public struct MonotonicClock: Sendable {
    private let read: @Sendable () -> Duration

    /// A clock that reads `read`.
    public init(_ read: @escaping @Sendable () -> Duration) {
        self.read = read
    }

    /// The time since the origin.
    public var now: Duration { read() }

    /// The system's monotonic clock (`ContinuousClock`), from the first time it is read.
    public static let system: MonotonicClock = {
        let origin = ContinuousClock.now
        return MonotonicClock { ContinuousClock.now - origin }
    }()
}
