#if canImport(Glibc)
    import Glibc
#endif

/// The few filesystem operations the commands share.
enum FileSystem {
    /// strerror(errno).
    static func reason() -> String { String(cString: strerror(errno)) }

    /// The bytes free to an unprivileged writer on the filesystem holding `path`.
    static func freeBytes(at path: String) -> UInt64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return UInt64(info.f_bavail) &* UInt64(info.f_frsize)
    }

    /// The directory part of `path` (`.` for a bare name), and its last component.
    static func split(_ path: String) -> (parent: String, name: String) {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let parent = trimmed[..<slash]
        return (parent.isEmpty ? "/" : String(parent), String(trimmed[trimmed.index(after: slash)...]))
    }

    /// An unnamed file (`O_TMPFILE`, 0600) in `directory`: gone when its descriptor closes.
    static func anonymousFile(in directory: String) throws(ArtifactError) -> Int32 {
        // O_TMPFILE is __O_TMPFILE | O_DIRECTORY; Glibc's module does not export the macro.
        let descriptor = open(directory, 0o20_000_000 | O_DIRECTORY | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ArtifactError(.fileSystem, "cannot make a temporary file in \(directory): \(reason())")
        }
        return descriptor
    }

    /// Writes all of `bytes` at `offset`.
    static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var done = 0
        while done < bytes.count {
            let written =
                offset.map { pwrite(descriptor, base + done, bytes.count - done, off_t($0) + off_t(done)) }
                ?? Glibc.write(descriptor, base + done, bytes.count - done)
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            done += written
        }
        return true
    }
}
