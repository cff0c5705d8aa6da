import CryptoPrimitives
import Synchronization

/// Request ids: a random per-process prefix and a counter, e.g. `3f9a61c2-000042`; unique across
/// restarts with overwhelming probability and cheap to make.
public final class RequestIDs: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    /// Creates a generator with a fresh random prefix.
    public init() {
        prefix = Hex.encode((try? SecureRandom.bytes(count: 4)) ?? [0, 0, 0, 0])
    }

    /// The next id.
    public func next() -> String {
        let value = counter.add(1, ordering: .relaxed).newValue
        let digits = String(value)
        return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}
