import HTTPTransport
import Synchronization

/// A retry policy's sleep that returns at once and remembers every delay asked for.
public final class RecordingSleeper: Sendable {
    private let delays = Mutex<[Duration]>([])

    public init() {}

    /// The delays asked for, in order.
    public var recorded: [Duration] { delays.withLock { $0 } }

    /// A policy using this sleeper, with a fixed "random" draw.
    public func policy(maxAttempts: Int = 5, random: Double = 0.5) -> RetryPolicy {
        RetryPolicy(
            maxAttempts: maxAttempts, base: .milliseconds(100), cap: .seconds(20), random: { random },
            sleep: { [self] duration in delays.withLock { $0.append(duration) } })
    }
}

/// Counts calls; `Sendable` so transports' closures can share it.
public final class Counter: Sendable {
    private let value = Mutex(0)
    public init() {}
    /// Adds one and returns the new count.
    @discardableResult public func next() -> Int {
        value.withLock {
            $0 += 1; return $0
        }
    }
    /// The count.
    public var count: Int { value.withLock { $0 } }
}

/// Keeps every request a fake transport saw.
public final class RequestLog: Sendable {
    private let requests = Mutex<[HTTPRequest]>([])
    public init() {}
    public func append(_ request: HTTPRequest) { requests.withLock { $0.append(request) } }
    public var all: [HTTPRequest] { requests.withLock { $0 } }
}
