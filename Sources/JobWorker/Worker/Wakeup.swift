import Synchronization

/// Wakes one waiting loop: a job's end, a stop request. A signal given while nobody waits is
/// kept for the next wait.
///
/// Thread-safety: any thread may signal; one task waits at a time.
final class Wakeup: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Wakes the waiter, or the next one.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next signal, or after `timeout`.
    func wait(timeout: Duration) async {
        let timer = Task { [self] in
            try await Task.sleep(for: timeout)
            signal()
        }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
        state.withLock { $0.pending = false }  // the timer's own signal, if it raced the real one
    }
}

/// SIGTERM and SIGINT as the worker sees them: the first stops polling and starts the drain;
/// the second ends the drain at once.
public final class Shutdown: Sendable {
    private let requests = Atomic<Int>(0)
    let wakeup = Wakeup()
    let drainWakeup = Wakeup()

    public init() {}

    /// A stop was asked for (a signal).
    public func request() {
        requests.wrappingAdd(1, ordering: .acquiringAndReleasing)
        wakeup.signal()
        drainWakeup.signal()
    }

    /// How many stops were asked for.
    var count: Int { requests.load(ordering: .acquiring) }
}
