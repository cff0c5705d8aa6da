#if canImport(Glibc)
    import Glibc
#endif

/// Random access to an archive's bytes: a file through `pread`, or bytes in memory (the fuzz
/// targets and tests).
public protocol ByteSource {
    /// The number of bytes.
    var count: UInt64 { get }
    /// Exactly `length` bytes at `offset`.
    /// - Throws: `ArchiveError.truncated` when the range runs past the end or cannot be read.
    func bytes(at offset: UInt64, length: Int) throws(ArchiveError) -> [UInt8]
}

/// An open file, read with `pread`; the descriptor stays the caller's.
public struct FileBytes: ByteSource {
    private let descriptor: Int32
    public let count: UInt64

    /// The file open at `descriptor`, whose size is taken now.
    public init(descriptor: Int32) throws(ArchiveError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ArchiveError(.library, "the archive is not a regular file")
        }
        self.descriptor = descriptor
        count = UInt64(info.st_size)
    }

    public func bytes(at offset: UInt64, length: Int) throws(ArchiveError) -> [UInt8] {
        guard length >= 0, offset <= count, UInt64(length) <= count - offset else {
            throw ArchiveError(.truncated, "the archive ends before byte \(offset &+ UInt64(max(length, 0)))")
        }
        var buffer = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let read = buffer[done...].withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress, raw.count, off_t(offset) + off_t(done))
            }
            if read < 0, errno == EINTR { continue }
            guard read > 0 else { throw ArchiveError(.truncated, "cannot read the archive at byte \(offset)") }
            done += read
        }
        return buffer
    }
}

/// Bytes in memory.
public struct MemoryBytes: ByteSource {
    private let storage: [UInt8]
    public var count: UInt64 { UInt64(storage.count) }

    /// The bytes `storage`.
    public init(_ storage: [UInt8]) { self.storage = storage }

    public func bytes(at offset: UInt64, length: Int) throws(ArchiveError) -> [UInt8] {
        guard length >= 0, offset <= count, UInt64(length) <= count - offset else {
            throw ArchiveError(.truncated, "the archive ends before byte \(offset &+ UInt64(max(length, 0)))")
        }
        return Array(storage[Int(offset)..<Int(offset) + length])
    }
}
