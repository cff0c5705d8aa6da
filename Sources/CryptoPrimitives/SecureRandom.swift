internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's DRBG.
///
/// Thread-safety: OpenSSL 3's default RNG is thread-safe.
public enum SecureRandom {
    /// Returns `count` random bytes.
    /// - Throws: `CryptoError.randomUnavailable` when OpenSSL's generator fails; never returns weak bytes.
    public static func bytes(count: Int) throws(CryptoError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else {
            throw CryptoError(.randomUnavailable, "RAND_bytes failed: OpenSSL could not produce secure random bytes")
        }
        return bytes
    }
}
