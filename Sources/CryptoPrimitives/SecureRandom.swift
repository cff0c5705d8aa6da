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
}
