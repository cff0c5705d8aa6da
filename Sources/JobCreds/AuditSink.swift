import Glibc
import Synchronization

/// Where audit lines go. Each `write` is one complete JSON line; it returns only once the line is
/// handed to the kernel, so a request's line is written before its response is sent.
///
/// Thread-safety: implementations accept concurrent writes and never interleave lines.
public protocol AuditSink: Sendable {
    /// Writes one line (a newline is added).
    /// - Returns: false if the line could not be written.
    @discardableResult func write(_ line: String) -> Bool
}

/// Appends audit lines to a file (`O_APPEND`, mode 0640) or to standard output (`-`).
public final class FileAuditSink: AuditSink {
    private let descriptor: Mutex<Int32>
    private let ownsDescriptor: Bool
    /// The path, or `-`.
    public let path: String

    /// Opens `path` for appending, creating it if needed; `-` is standard output.
    /// - Throws: `JobCredsError.usage` if it cannot be opened.
    public init(path: String) throws(JobCredsError) {
        self.path = path
        if path == "-" {
            descriptor = Mutex(STDOUT_FILENO)
            ownsDescriptor = false
        } else {
            descriptor = Mutex(try Self.open(path))
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor { close(descriptor.withLock { $0 }) }
    }

    /// Reopens the file at its path (after logrotate moved it); standard output stays as it is.
    /// - Throws: `JobCredsError` if the path cannot be opened; the old file stays in use.
    public func reopen() throws(JobCredsError) {
        guard ownsDescriptor else { return }
        let fresh = try Self.open(path)
        let old = descriptor.withLock { fd in
            defer { fd = fresh }
            return fd
        }
        close(old)
    }

    public func write(_ line: String) -> Bool {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        return descriptor.withLock { fd in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
    }

    private static func open(_ path: String) throws(JobCredsError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else {
            throw JobCredsError(.usage, "cannot open the audit log \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
