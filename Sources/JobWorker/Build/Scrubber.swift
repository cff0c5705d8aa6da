import Synchronization

/// Removes every secret value the worker knows from text that leaves it (build output in logs
/// and in failure messages): the artifact credentials, secret configuration values, the client
/// token. Longer values first, so one that holds another is removed whole.
///
/// Thread-safety: a `Mutex`; secrets can be added while a build runs (a refresh).
final class Scrubber: Sendable {
    private let secrets = Mutex<[String]>([])
    private let live = Mutex<(@Sendable () -> [String])?>(nil)

    /// What a removed value is replaced with.
    static let replacement = "(redacted)"

    init(_ values: [String] = []) { add(values) }

    /// Adds values to remove (empty ones are ignored).
    func add(_ values: [String]) {
        secrets.withLock { secrets in
            let known = secrets.count
            for value in values where !value.isEmpty && !secrets.contains(value) { secrets.append(value) }
            // Every output line adds what the sidecar serves: sort only when that is new.
            if secrets.count > known { secrets.sort { $0.utf8.count > $1.utf8.count } }
        }
    }

    /// Also removes, at each scrub, what `source` gives then (the credentials the job's sidecar
    /// serves now: a refresh replaces them while the build runs).
    func follow(_ source: @escaping @Sendable () -> [String]) { live.withLock { $0 = source } }

    /// `text` with every secret value replaced.
    func scrub(_ text: String) -> String {
        if let source = live.withLock({ $0 }) { add(source()) }
        let values = secrets.withLock { $0 }
        var cleaned = text
        for value in values where cleaned.contains(value) {
            cleaned = cleaned.replacing(value, with: Self.replacement)
        }
        return cleaned
    }
}
