import Glibc
import Synchronization

/// Appends audit lines to a file (`O_APPEND`, mode 0640) or to standard output (`-`).
///
/// Each line goes out in one `writev`; with `O_APPEND` the kernel places every write at the end
/// of the file whole, so concurrent writers need no lock and lines never interleave. (A short
/// write, which regular files do not produce short of a full disk, is completed under a lock.)
public final class FileAuditSink: AuditSink {
    private let descriptor: Atomic<Int32>
    private let partialWrites = Mutex(())
    /// The descriptor replaced by the last reopen; closed at the next one, so that a writer that
    /// loaded it just before the swap never writes to a closed (or reused) descriptor.
    private let retired = Mutex<Int32?>(nil)
    private let ownsDescriptor: Bool
    /// The path, or `-`.
    public let path: String

    /// Opens `path` for appending, creating it if needed; `-` is standard output.
    /// - Throws: `JobCredsError.usage` if it cannot be opened.
    public init(path: String) throws(JobCredsError) {
        self.path = path
        if path == "-" {
            descriptor = Atomic(STDOUT_FILENO)
            ownsDescriptor = false
        } else {
            descriptor = Atomic(try Self.open(path))
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor {
            close(descriptor.load(ordering: .acquiring))
            if let old = retired.withLock({ $0 }) { close(old) }
        }
    }

    /// Reopens the file at its path (after logrotate moved it); standard output stays as it is.
    /// - Throws: `JobCredsError` if the path cannot be opened; the old file stays in use.
    public func reopen() throws(JobCredsError) {
        guard ownsDescriptor else { return }
        let fresh = try Self.open(path)
        let old = descriptor.exchange(fresh, ordering: .acquiringAndReleasing)
        retired.withLock { previous in
            if let previous { close(previous) }
            previous = old
        }
    }

    /// One `writev` of the line and its newline: with `O_APPEND` the kernel appends the whole
    /// call at once. A short write (a full disk) is completed under a lock.
    public func write(line: [UInt8]) -> Bool {
        let fd = descriptor.load(ordering: .acquiring)
        let total = line.count + 1
        var written = Self.writeLineAndNewline(fd, line)
        while written < 0, errno == EINTR {
            written = Self.writeLineAndNewline(fd, line)
        }
        guard written >= 0 else { return false }
        guard written < total else { return true }
        let rest = Array((line + [UInt8(ascii: "\n")])[written...])
        return partialWrites.withLock { _ in
            var offset = 0
            while offset < rest.count {
                let more = rest[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if more < 0, errno == EINTR { continue }
                guard more > 0 else { return false }
                offset += more
            }
            return true
        }
    }

    private static let newline: [UInt8] = [UInt8(ascii: "\n")]

    private static func writeLineAndNewline(_ fd: Int32, _ line: [UInt8]) -> Int {
        line.withUnsafeBytes { body in
            newline.withUnsafeBytes { end in
                withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2) { vectors in
                    vectors[0] = iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
                    vectors[1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: end.baseAddress), iov_len: 1)
                    return writev(fd, vectors.baseAddress, 2)
                }
            }
        }
    }

    /// A regular file of the sidecar's user (or root) that others cannot write (`TrustedFile`),
    /// created 0640 if missing.
    private static func open(_ path: String) throws(JobCredsError) -> Int32 {
        try TrustedFile.open(
            path, flags: O_WRONLY | O_APPEND | O_CREAT, mode: 0o640,
            rules: .init(what: "the audit log", groupMayWrite: true))
    }
}
