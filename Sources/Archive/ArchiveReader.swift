internal import CArchive

#if canImport(Glibc)
    import Glibc
#endif

/// Reads an archive's entries and their bytes through libarchive, with only the one format's
/// reader enabled (zip through its seekable reader, which follows the central directory; tar,
/// and tar in gzip).
///
/// Thread-safety: one thread at a time; the owner of the libarchive handle (STYLE habit 6).
public final class ArchiveReader {
    /// The formats read.
    public enum Format: String, Sendable, CaseIterable {
        case zip
        case tar
        case tgz
    }

    /// One entry's header, as libarchive read it.
    public struct Header: Sendable, Equatable {
        /// The kinds of entry.
        public enum Kind: Sendable, Equatable {
            case file
            case directory
            case symlink(target: [UInt8])
            case hardlink(target: [UInt8])
            /// A device, FIFO or socket.
            case special
        }

        /// The path's bytes, as stored.
        public var path: [UInt8]
        /// What it is.
        public var kind: Kind
        /// The permission bits, setuid, setgid and sticky included (`mode & 0o7777`).
        public var permissions: UInt32
        /// The declared size, when the header has one.
        public var size: UInt64?
        /// The modification time, in seconds since 1970.
        public var modified: Int64
        /// Whether libarchive says it is encrypted.
        public var encrypted: Bool
    }

    private let handle: OpaquePointer
    /// The entry whose data is read next.
    private var entry: OpaquePointer?

    /// Opens the archive in the regular file at `descriptor` (which stays the caller's), from its start.
    public init(descriptor: Int32, format: Format) throws(ArchiveError) {
        guard let handle = archive_read_new() else { throw ArchiveError(.library, "archive_read_new failed") }
        self.handle = handle
        switch format {
        case .zip: archive_read_support_format_zip_seekable(handle)
        case .tar: archive_read_support_format_tar(handle)
        case .tgz:
            archive_read_support_filter_gzip(handle)
            archive_read_support_format_tar(handle)
        }
        guard lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw ArchiveError(.library, "cannot seek the archive: \(String(cString: strerror(errno)))")
        }
        let opened = UTF8Locale.run { archive_read_open_fd(handle, descriptor, 1 << 16) }
        try check(opened, "open")
    }

    deinit {
        archive_read_free(handle)
    }

    /// The next entry's header, or nil after the last.
    public func next() throws(ArchiveError) -> Header? {
        var current: OpaquePointer?
        let status = UTF8Locale.run { archive_read_next_header(handle, &current) }
        if status == ARCHIVE_EOF { return nil }
        try check(status, "read a header")
        guard let current else { throw ArchiveError(.library, "libarchive returned no header") }
        entry = current
        return UTF8Locale.run { header(of: current) }
    }

    /// Reads the current entry's next bytes into `buffer`; returns how many (0 at its end).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        let count = archive_read_data(handle, buffer.baseAddress, buffer.count)
        if count < 0 { try check(Int32(truncatingIfNeeded: count), "read an entry's data") }
        return count
    }

    private func header(of entry: OpaquePointer) -> Header {
        let mode = UInt32(archive_entry_mode(entry))
        let kind: Header.Kind
        if let target = archive_entry_hardlink(entry) {
            kind = .hardlink(target: bytes(of: target))
        } else {
            switch mode & UnixMode.typeMask {
            case UnixMode.regular: kind = .file
            case UnixMode.directory: kind = .directory
            case UnixMode.symlink: kind = .symlink(target: archive_entry_symlink(entry).map(bytes(of:)) ?? [])
            default: kind = .special
            }
        }
        return Header(
            path: archive_entry_pathname(entry).map(bytes(of:)) ?? [], kind: kind, permissions: mode & 0o7777,
            size: archive_entry_size_is_set(entry) != 0 ? UInt64(max(0, archive_entry_size(entry))) : nil,
            modified: Int64(archive_entry_mtime(entry)), encrypted: archive_entry_is_encrypted(entry) != 0)
    }

    private func bytes(of string: UnsafePointer<CChar>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: string, count: strlen(string))).map { UInt8(bitPattern: $0) }
    }

    /// libarchive's status as an error: anything but `ARCHIVE_OK` (a warning included: a bad CRC
    /// is one) ends the read.
    private func check(_ status: Int32, _ what: String) throws(ArchiveError) {
        guard status != ARCHIVE_OK else { return }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "status \(status)"
        let code: ArchiveError.Code =
            message.contains("CRC")
            ? .checksumMismatch
            : message.contains("wrong size") ? .sizeMismatch : message.contains("Truncated") ? .truncated : .library
        throw ArchiveError(code, "libarchive cannot \(what): \(message)")
    }
}
