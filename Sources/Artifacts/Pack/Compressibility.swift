#if canImport(Glibc)
    import Glibc
#endif

/// Whether deflate is worth its time on a file, judged from a sample of its bytes: content whose
/// bytes are spread almost evenly over all 256 values (order-0 entropy near 8 bits a byte) is
/// compressed or encrypted already, and deflate would spend a second a hundred megabytes to make it
/// a little larger. Such a file is stored; anything else is deflated. The suffix list of
/// `ZipPacking` catches the common formats by name; this catches the rest (an unnamed tarball, a
/// container image layer, a binary blob) by content.
///
/// The sample is the whole file up to 64 KiB, else four 16 KiB windows spread over it, read with
/// `pread` so the file's offset stays where the copy starts. Content that is both high in order-0
/// entropy and repetitive (the same random block many times over) is stored too: a bigger entry,
/// never a wrong one.
enum Compressibility {
    /// One window of the sample.
    static let window = 16 << 10
    /// Files smaller than this are deflated without looking: their cost is small either way.
    static let smallest: UInt64 = 8 << 10
    /// At or above this many bits a byte, the sample is taken for incompressible.
    static let incompressibleBits = 7.9

    /// Whether `file` (of `size` bytes) should be deflated; `buffer` holds at least 64 KiB.
    static func worthDeflating(_ file: Int32, size: UInt64, buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard size >= smallest, buffer.count >= 4 * window, let base = buffer.baseAddress else { return true }
        let offsets: [UInt64] =
            size <= UInt64(4 * window) ? [0] : (0..<4).map { (size - UInt64(window)) / 3 * UInt64($0) }
        let length = size <= UInt64(4 * window) ? Int(size) : window
        var filled = 0
        for offset in offsets {
            let count = pread(file, base + filled, length, off_t(offset))
            guard count > 0 else { return true }  // the copy that follows says what is wrong
            filled += count
        }
        return entropy(UnsafeRawBufferPointer(rebasing: buffer[..<filled])) < incompressibleBits
    }

    /// The order-0 entropy of `bytes`, in bits a byte (0 for none).
    static func entropy(_ bytes: UnsafeRawBufferPointer) -> Double {
        guard !bytes.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: 256)
        counts.withUnsafeMutableBufferPointer { counts in
            for byte in bytes { counts[Int(byte)] += 1 }
        }
        let total = Double(bytes.count)
        return counts.reduce(0.0) { sum, count in
            guard count > 0 else { return sum }
            let p = Double(count) / total
            return sum - p * log2(p)
        }
    }
}
