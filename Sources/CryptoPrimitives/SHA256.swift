internal import COpenSSL

/// SHA-256 from OpenSSL.
///
/// Thread-safety: stateless; safe from any thread.
public enum SHA256 {
    /// The digest length in bytes.
    public static let byteCount = 32

    /// Hashes `bytes` in one call.
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: byteCount)
        let hashedInPlace: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            hash(buffer, into: &digest)
        }
        if hashedInPlace == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { hash($0, into: &digest) }
        }
        return digest
    }

    /// Hashes the UTF-8 bytes of `string`.
    public static func hash(_ string: String) -> [UInt8] {
        hash(Array(string.utf8))
    }

    private static func hash(_ buffer: UnsafeBufferPointer<UInt8>, into digest: inout [UInt8]) {
        digest.withUnsafeMutableBufferPointer { out in
            var length: UInt32 = 0
            // EVP_Digest with SHA-256 cannot fail for in-memory input short of memory exhaustion,
            // in which case the process cannot go on anyway.
            let ok = EVP_Digest(buffer.baseAddress, buffer.count, out.baseAddress, &length, EVP_sha256(), nil)
            precondition(ok == 1 && length == UInt32(byteCount), "EVP_Digest(SHA-256) failed")
        }
    }
}

extension SHA256 {
    /// A SHA-256 of bytes that arrive in pieces (an archive as it is written).
    ///
    /// Thread-safety: one thread at a time; owns its OpenSSL context.
    public final class Hasher {
        private let context: OpaquePointer

        /// A hash of no bytes yet.
        public init() {
            // EVP_MD_CTX_new and EVP_DigestInit_ex fail only when memory is exhausted.
            guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed") }
            self.context = context
            precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex(SHA-256) failed")
        }

        deinit { EVP_MD_CTX_free(context) }

        /// Adds `bytes`.
        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0 else { return }
            precondition(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1, "EVP_DigestUpdate failed")
        }

        /// The digest of everything added; the hasher is spent.
        public func finish() -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: SHA256.byteCount)
            var length: UInt32 = 0
            digest.withUnsafeMutableBufferPointer { out in
                precondition(EVP_DigestFinal_ex(context, out.baseAddress, &length) == 1, "EVP_DigestFinal_ex failed")
            }
            return digest
        }
    }
}
