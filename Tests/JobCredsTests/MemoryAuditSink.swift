import JobCreds
import Synchronization

/// An audit sink that keeps lines in memory, and can be told to fail.
final class MemoryAuditSink: AuditSink {
    private let lines = Mutex<[String]>([])
    private let failing = Mutex(false)

    init() {}

    /// Every line written.
    var all: [String] { lines.withLock { $0 } }

    /// Makes every later write fail (a full disk).
    func fail(_ value: Bool = true) { failing.withLock { $0 = value } }

    func write(line: [UInt8]) -> Bool {
        if failing.withLock({ $0 }) { return false }
        lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
        return true
    }
}
