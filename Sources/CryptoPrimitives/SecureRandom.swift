internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG.
///
/// Thread-safety: OpenSSL 3's default RNG is thread-safe.
public enum SecureRandom {
    /// The error thrown when OpenSSL cannot produce random bytes (its entropy source failed).
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String { "RAND_bytes failed: OpenSSL could not produce secure random bytes" }
    }

    /// Returns `count` random bytes.
    /// - Throws: `Unavailable` when OpenSSL's generator fails; never returns weak bytes.
    public static func bytes(count: Int) throws(Unavailable) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { throw Unavailable() }
        return bytes
    }

    /// A uniformly distributed random double in `0..<1`, for jitter (not for secrets).
    public static func unitInterval() -> Double {
        guard let bytes = try? bytes(count: 8) else { return Double.random(in: 0..<1) }
        let value = bytes.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        return Double(value >> 11) / Double(UInt64(1) << 53)
    }
}
