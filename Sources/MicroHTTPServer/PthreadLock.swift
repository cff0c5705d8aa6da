import Glibc

/// A value behind a pthread mutex. The standard library's `Mutex` is a futex on Linux, which
/// ThreadSanitizer cannot see; the ledger is taken on every connection by libmicrohttpd's threads
/// and by deadline timers, so its lock must be one that `make sanitize` understands.
///
/// Thread-safety: every access to the value holds the mutex.
final class PthreadLock<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, the mutex held.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
