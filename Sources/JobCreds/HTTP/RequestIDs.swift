import CryptoPrimitives
import Synchronization

/// Request ids: a random per-process prefix and a counter, e.g. `3f9a61c2-000042`; unique across
/// restarts with overwhelming probability and cheap to make.
public final class RequestIDs: Sendable {
    private let prefix: [UInt8]
    private let counter = Atomic<UInt64>(0)

    /// Creates a generator with a fresh random prefix.
    public init() {
        prefix = Array(Hex.encode((try? SecureRandom.bytes(count: 4)) ?? [0, 0, 0, 0]).utf8)
    }

    /// The next id.
    public func next() -> String {
        var value = counter.add(1, ordering: .relaxed).newValue
        // Written as bytes: 15 of them until the millionth request, a string kept inline.
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(value % 10))
            value /= 10
        } while value > 0 || digits.count < 6
        var id = prefix
        id.reserveCapacity(prefix.count + 1 + digits.count)
        id.append(UInt8(ascii: "-"))
        id.append(contentsOf: digits.reversed())
        return String(decoding: id, as: UTF8.self)
    }
}
