import CryptoPrimitives
import Glibc
import JobCreds

/// The worker's own directories and durable files.
enum Directories {
    /// Makes `path` (and its parents) with `mode` if missing; an existing one must be a directory
    /// of the worker's user (or root) that others cannot write.
    static func make(_ path: String, mode: mode_t) throws(JobCredsError) {
        var info = stat()
        if lstat(path, &info) != 0 {
            makeParents(of: path)
            guard mkdir(path, mode) == 0 || errno == EEXIST else {
                throw JobCredsError(.usage, "cannot make the directory \(path): \(reason())")
            }
            _ = chmod(path, mode)  // not narrowed by the umask
            guard lstat(path, &info) == 0 else {
                throw JobCredsError(.usage, "cannot make the directory \(path): \(reason())")
            }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw JobCredsError(.usage, "\(path) is not a directory (a symbolic link or a file): give a directory")
        }
        guard info.st_uid == geteuid() || info.st_uid == 0 else {
            throw JobCredsError(.usage, "\(path) is owned by user \(info.st_uid), not by the worker's user: chown it")
        }
        guard info.st_mode & 0o002 == 0 else {
            throw JobCredsError(.usage, "\(path) is writable by others: chmod o-w \(path)")
        }
    }

    /// Makes the missing directories above `path` (0755), checking none: an existing parent may
    /// well be /tmp.
    private static func makeParents(of path: String) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let parent = String(path[..<slash])
        var info = stat()
        if lstat(parent, &info) != 0 {
            makeParents(of: parent)
            mkdir(parent, 0o755)
        }
    }

    /// Writes `bytes` to a new file at `path` (replacing one), then fsyncs it.
    static func writeDurably(_ bytes: [UInt8], to path: String, mode: mode_t) throws(JobCredsError) {
        unlink(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw JobCredsError(.failed, "cannot write \(path): \(reason())") }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw JobCredsError(.failed, "cannot write \(path): \(reason())") }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw JobCredsError(.failed, "cannot sync \(path): \(reason())") }
    }

    /// fsyncs a directory, so a rename in it is durable.
    static func sync(_ path: String) throws(JobCredsError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw JobCredsError(.failed, "cannot open \(path): \(reason())") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw JobCredsError(.failed, "cannot sync \(path): \(reason())") }
    }

    /// `name` when it is a safe file name (letters, digits, `-`, `_`, `.`, not starting with a
    /// dot, at most 128 bytes), else `x-` and the hex of its SHA-256 (a third-party job id may
    /// hold any printable character, `/` included, and 512 of them).
    static func safeName(_ name: String) -> String {
        let bytes = Array(name.utf8)
        let safe =
            !bytes.isEmpty && bytes.count <= 128 && bytes.first != UInt8(ascii: ".")
            && bytes.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            }
        return safe ? name : "x-" + Hex.encode(SHA256.hash(bytes))
    }

    /// strerror(errno).
    static func reason() -> String { String(cString: strerror(errno)) }
}
