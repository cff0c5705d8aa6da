import Glibc
import Synchronization

/// Appends audit lines to a file (`O_APPEND`, mode 0640) or to standard output (`-`).
///
/// Each line goes out in one `writev`; with `O_APPEND` the kernel places every write at the end
/// of the file whole, so concurrent writers need no lock and lines never interleave. A short
/// write, which regular files do not produce short of a full disk, is completed under a lock;
/// where the disk is too full for that, the file ends in a torn line, and the next write first
/// ends it with a newline, so every line after it is whole JSON on a line of its own (the torn
/// one is the line whose write failed, so its request was refused). Not covered: another
/// writer's line appended between a short `writev` and its completion, a window of
/// microseconds that opens only while the disk is full.
public final class FileAuditSink: AuditSink {
    private let descriptor: Atomic<Int32>
    /// Held to complete a short write and to end a torn line.
    private let partialWrites = Mutex(())
    /// The descriptor whose file ends in a line a failed write left without its newline, or -1.
    private let tornDescriptor = Atomic<Int32>(-1)
    private let onTornLineEnded: @Sendable () -> Void
    /// The descriptor replaced by the last reopen; closed at the next one, so that a writer that
    /// loaded it just before the swap never writes to a closed (or reused) descriptor.
    private let retired = Mutex<Int32?>(nil)
    private let ownsDescriptor: Bool
    /// The path, or `-`.
    public let path: String

    /// Opens `path` for appending, creating it if needed; `-` is standard output.
    /// - Parameter onTornLineEnded: called each time a line a full disk cut short is ended with a
    ///   newline before the next line (for a metric).
    /// - Throws: `JobCredsError.usage` if it cannot be opened.
    public init(path: String, onTornLineEnded: @escaping @Sendable () -> Void = {}) throws(JobCredsError) {
        self.path = path
        self.onTornLineEnded = onTornLineEnded
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
            if let previous {
                // Its number may come back for a file with no torn line.
                _ = tornDescriptor.compareExchange(expected: previous, desired: -1, ordering: .acquiringAndReleasing)
                close(previous)
            }
            previous = old
        }
    }

    /// One `writev` of the line and its newline: with `O_APPEND` the kernel appends the whole
    /// call at once. A short write (a full disk) is completed under a lock; a torn line left by
    /// one that could not be is ended first.
    public func write(line: [UInt8]) -> Bool {
        let fd = descriptor.load(ordering: .acquiring)
        if tornDescriptor.load(ordering: .acquiring) == fd {
            guard endTornLine(fd) else { return false }
        }
        let total = line.count + 1
        var written = Self.writeLineAndNewline(fd, line)
        while written < 0, errno == EINTR {
            written = Self.writeLineAndNewline(fd, line)
        }
        guard written >= 0 else { return false }
        guard written < total else { return true }
        let rest = Array((line + Self.newline)[written...])
        return partialWrites.withLock { _ in
            guard Self.writeAll(fd, rest[...]) else {
                tornDescriptor.store(fd, ordering: .releasing)
                return false
            }
            return true
        }
    }

    /// Ends the torn line with a newline, unless another writer already has.
    private func endTornLine(_ fd: Int32) -> Bool {
        partialWrites.withLock { _ in
            guard tornDescriptor.load(ordering: .acquiring) == fd else { return true }
            guard Self.writeAll(fd, Self.newline[...]) else { return false }
            tornDescriptor.store(-1, ordering: .releasing)
            onTornLineEnded()
            return true
        }
    }

    /// Writes all of `bytes`, retrying on `EINTR`; false on any other error.
    private static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let more = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if more < 0, errno == EINTR { continue }
            guard more > 0 else { return false }
            offset += more
        }
        return true
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
