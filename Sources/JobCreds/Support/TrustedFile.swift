import Glibc

/// Opening a file whose content the sidecar trusts (a token, the client token) or appends its
/// audit trail to, given by path in a directory someone else may write to.
///
/// The file is opened with `O_NOFOLLOW` (never through a symlink) and `O_NONBLOCK` (a FIFO or a
/// device cannot hang the open or a read), then checked on the descriptor (`fstat`, so nothing
/// can be swapped in between): a regular file, owned by the user the sidecar runs as (or root),
/// and not writable by others (nor by the group, where `groupMayWrite` is false). Each refusal
/// names the file and the fix.
public enum TrustedFile {
    /// The rules for one kind of file.
    public struct Rules: Sendable {
        /// How messages name it: "the token file".
        public var what: String
        /// Whether the file's group may write it (the audit log's may).
        public var groupMayWrite = false
        /// Whether others may read it.
        public var othersMayRead = true

        /// Creates rules.
        public init(what: String, groupMayWrite: Bool = false, othersMayRead: Bool = true) {
            self.what = what
            self.groupMayWrite = groupMayWrite
            self.othersMayRead = othersMayRead
        }
    }

    /// Opens `path` with `flags` (plus `O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC`; `mode` if `O_CREAT`)
    /// and checks it against `rules`; blocking is restored on success.
    /// - Returns: the open descriptor, the caller's to close.
    /// - Throws: `JobCredsError.usage` naming the file and the fix.
    public static func open(
        _ path: String, flags: Int32, mode: mode_t = 0, rules: Rules
    ) throws(JobCredsError) -> Int32 {
        let descriptor = Glibc.open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            let code = errno
            let hint =
                switch code {
                case ELOOP: " (it is a symbolic link; give the file's own path)"
                case ENXIO: " (it is a FIFO or a socket with nobody at the other end; give a regular file)"
                default: ""
                }
            throw JobCredsError(.usage, "cannot open \(rules.what) \(path): \(String(cString: strerror(code)))\(hint)")
        }
        do throws(JobCredsError) {
            try check(descriptor, path, rules)
        } catch {
            close(descriptor)
            throw error
        }
        let status = fcntl(descriptor, F_GETFL)
        if status >= 0 { _ = fcntl(descriptor, F_SETFL, status & ~O_NONBLOCK) }
        return descriptor
    }

    /// Reads the whole of `path`, opened and checked as `open` does.
    /// - Throws: `JobCredsError.usage` for a refused file, a read error or more than `limit` bytes.
    public static func read(_ path: String, rules: Rules, limit: Int = 4096) throws(JobCredsError) -> [UInt8] {
        let descriptor = try open(path, flags: O_RDONLY, rules: rules)
        defer { close(descriptor) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw JobCredsError(.usage, "cannot read \(rules.what) \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return content }
            content.append(contentsOf: buffer[0..<count])
            guard content.count <= limit else {
                throw JobCredsError(.usage, "\(rules.what) \(path) is larger than \(limit) bytes")
            }
        }
    }

    private static func check(_ descriptor: Int32, _ path: String, _ rules: Rules) throws(JobCredsError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw JobCredsError(.usage, "cannot stat \(rules.what) \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw JobCredsError(
                .usage, "\(rules.what) \(path) is not a regular file (a FIFO, a device or a directory); give a file")
        }
        let me = geteuid()
        guard info.st_uid == me || info.st_uid == 0 else {
            throw JobCredsError(
                .usage,
                "\(rules.what) \(path) is owned by user \(info.st_uid), not by the user jobcreds runs as (\(me)) or "
                    + "root: anyone who owns it can change it; remove it (one is made) or chown \(me) \(path)")
        }
        let permissions = info.st_mode & 0o777
        let writers: mode_t = rules.groupMayWrite ? 0o002 : 0o022
        guard permissions & writers == 0 else {
            throw JobCredsError(
                .usage,
                "\(rules.what) \(path) is writable by \(rules.groupMayWrite ? "others" : "its group or others") "
                    + "(mode \(String(permissions, radix: 8))): chmod \(rules.groupMayWrite ? "o-w" : "go-w") \(path)")
        }
        guard rules.othersMayRead || permissions & 0o007 == 0 else {
            throw JobCredsError(
                .usage,
                "\(rules.what) \(path) is readable by others (mode \(String(permissions, radix: 8))); "
                    + "allow the owner and at most a group: chmod 0640 \(path)")
        }
    }
}
