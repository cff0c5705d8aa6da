internal import COpenSSL

/// Secret bytes in memory that this type alone owns, wiped with `OPENSSL_cleanse` when released,
/// so a replaced secret does not linger in the heap.
///
/// Copies handed out (`withUnsafeBytes`, `copy()`) are the caller's to keep short-lived.
/// Thread-safety: immutable after creation; safe to share.
public final class SecretBytes: Sendable, CustomStringConvertible {
    private nonisolated(unsafe) let storage: UnsafeMutableRawBufferPointer

    /// Copies `bytes` into owned memory.
    public init(_ bytes: some Collection<UInt8>) {
        storage = .allocate(byteCount: bytes.count, alignment: 1)
        storage.copyBytes(from: bytes)
    }

    deinit {
        if let base = storage.baseAddress { OPENSSL_cleanse(base, storage.count) }
        storage.deallocate()
    }

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Calls `body` with the bytes, valid only during the call.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// A plain copy (not wiped on release).
    public func copy() -> [UInt8] { Array(storage) }

    /// Whether `other` holds the same bytes, compared in constant time.
    public func equals(_ other: some Collection<UInt8>) -> Bool {
        ConstantTime.equals(storage, other)
    }

    public var description: String { "(\(count) secret bytes)" }
}
