internal import COpenSSL

/// Comparisons whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes, compared with `CRYPTO_memcmp`.
    ///
    /// The lengths are compared first; that leaks only the length, which for tokens of a fixed
    /// size is public anyway.
    public static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        // Contiguous bytes (arrays, native strings' UTF-8) are compared in place; others copied.
        let inPlace = a.withContiguousStorageIfAvailable { left in
            b.withContiguousStorageIfAvailable { right in equals(left, right) }
        }
        if let inPlace, let result = inPlace { return result }
        return Array(a).withUnsafeBufferPointer { left in
            Array(b).withUnsafeBufferPointer { right in equals(left, right) }
        }
    }

    private static func equals(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        guard let l = left.baseAddress, let r = right.baseAddress, left.count > 0 else { return true }
        return CRYPTO_memcmp(l, r, left.count) == 0
    }
}
