internal import CArchive

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a zip archive through libarchive's zip writer: made by Unix (the mode in the external
/// attributes), UTF-8 names flagged, ZIP64 only where an entry or the archive needs it, deflate or
/// stored per entry, owner and group 0. What goes in, and in which order, is the caller's to decide.
///
/// The archive's bytes go to `output` as libarchive produces them (no block padding), so the
/// caller can hash and count them on the way to a file.
///
/// Thread-safety: one thread at a time; the owner of the libarchive handle.
public final class ZipWriter {
    /// Receives the archive's bytes; returns false to stop the write (a full disk, say).
    public typealias Output = (UnsafeRawBufferPointer) -> Bool

    private let handle: OpaquePointer
    private let sink: Sink
    private let level: Int
    private var finished = false

    /// Owns the output closure for libarchive's callback.
    private final class Sink {
        let output: Output
        init(_ output: @escaping Output) { self.output = output }
    }

    /// A writer at deflate `level` (0 stores every entry) sending the archive to `output`.
    public init(level: Int, output: @escaping Output) throws(ArchiveError) {
        guard let handle = archive_write_new() else { throw ArchiveError(.library, "archive_write_new failed") }
        self.handle = handle
        self.sink = Sink(output)
        self.level = min(max(level, 0), 9)
        try check(archive_write_set_format_zip(handle), "select the zip format")
        try check(archive_write_set_bytes_per_block(handle, 0), "turn block padding off")
        // The conversion is made now, from the locale of the moment: it must be UTF-8 already.
        try check(
            UTF8Locale.run { archive_write_set_format_option(handle, "zip", "hdrcharset", "UTF-8") }, "set UTF-8 names")
        if self.level > 0 {
            try check(
                archive_write_set_format_option(handle, "zip", "compression-level", String(self.level)),
                "set the compression level")
        }
        let opened = archive_write_open2(
            handle, Unmanaged.passUnretained(sink).toOpaque(), nil,
            { _, context, buffer, length in
                guard let context, let buffer else { return -1 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                return sink.output(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : -1
            }, nil, nil)
        try check(opened, "open the output")
    }

    deinit {
        if !finished { archive_write_fail(handle) }
        archive_write_free(handle)
    }

    /// Adds a directory entry (`path` ends with `/`).
    public func addDirectory(path: String, permissions: UInt32, modified: Int64) throws(ArchiveError) {
        try header(path: path, type: UnixMode.directory, permissions: permissions, modified: modified, size: 0)
    }

    /// Starts a regular file of `size` bytes, whose bytes follow through `write`.
    /// - Parameter compress: false stores it (already-compressed content).
    public func beginFile(
        path: String, permissions: UInt32, modified: Int64, size: UInt64, compress: Bool
    ) throws(ArchiveError) {
        let method = compress && level > 0
        try check(
            method
                ? archive_write_zip_set_compression_deflate(handle) : archive_write_zip_set_compression_store(handle),
            "choose the compression")
        try header(path: path, type: UnixMode.regular, permissions: permissions, modified: modified, size: size)
    }

    /// Adds the current file's next bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let written = archive_write_data(handle, base + done, bytes.count - done)
            guard written > 0 else { return try check(Int32(truncatingIfNeeded: min(written, -1)), "write data") }
            done += written
        }
    }

    /// Adds a symbolic link to `target`.
    public func addSymlink(path: String, target: String, modified: Int64) throws(ArchiveError) {
        try header(path: path, type: UnixMode.symlink, permissions: 0o777, modified: modified, size: 0, target: target)
    }

    /// Writes the central directory and the end records.
    public func finish() throws(ArchiveError) {
        finished = true
        try check(archive_write_close(handle), "finish the archive")
    }

    private func header(
        path: String, type: UInt32, permissions: UInt32, modified: Int64, size: UInt64, target: String? = nil
    ) throws(ArchiveError) {
        guard let entry = archive_entry_new() else { throw ArchiveError(.library, "archive_entry_new failed") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, path)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode_t(permissions & 0o7777))
        archive_entry_set_mtime(entry, time_t(modified), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        if type == UnixMode.regular { archive_entry_set_size(entry, la_int64_t(size)) }
        if let target { archive_entry_set_symlink_utf8(entry, target) }
        let status = UTF8Locale.run { archive_write_header(handle, entry) }
        try check(status, "write the header of \(displayName(path.utf8))")
    }

    private func check(_ status: Int32, _ what: String) throws(ArchiveError) {
        guard status != ARCHIVE_OK else { return }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "status \(status)"
        throw ArchiveError(.library, "libarchive cannot \(what): \(message)")
    }
}
