import CryptoPrimitives
import Glibc

/// The token build tools must send, kept in a file they can read
/// (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
///
/// A missing file is created exclusively (`O_CREAT|O_EXCL`, never through a symlink) with the
/// given mode, holding 32 bytes from OpenSSL's RNG as 64 hex characters and **no trailing
/// newline** (botocore, Go and Rust send the file's bytes as they are). An existing file is used
/// as it is, unless it is empty or holds a line break.
public enum TokenFile {
    /// Bytes of randomness in a created token (256 bits).
    public static let tokenBytes = 32

    /// Reads the token at `path`, creating it first if it does not exist.
    /// - Returns: the token and whether it was created.
    /// - Throws: `JobCredsError.usage` saying what is wrong with the file.
    public static func loadOrCreate(
        at path: String, mode: mode_t
    ) throws(JobCredsError) -> (token: [UInt8], created: Bool) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        if descriptor >= 0 {
            defer { close(descriptor) }
            let token: [UInt8]
            do {
                token = Array(Hex.encode(try SecureRandom.bytes(count: tokenBytes)).utf8)
            } catch {
                unlink(path)
                throw JobCredsError(.failed, "cannot make a token: \(error)", underlying: error)
            }
            // The umask may have narrowed the mode; set exactly what was asked.
            guard fchmod(descriptor, mode) == 0, writeAll(descriptor, token), fsync(descriptor) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(path)
                throw JobCredsError(.usage, "cannot write the token file \(path): \(reason)")
            }
            return (token, true)
        }
        guard errno == EEXIST else {
            throw JobCredsError(
                .usage,
                "cannot create the token file \(path): \(String(cString: strerror(errno))) "
                    + "(does its directory exist and is it writable?)")
        }
        return (try read(at: path), false)
    }

    /// Reads and checks an existing token file.
    public static func read(at path: String) throws(JobCredsError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw JobCredsError(.usage, "cannot read the token file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw JobCredsError(.usage, "cannot stat the token file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o007 == 0 else {
            throw JobCredsError(
                .usage,
                "the token file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "allow the owner and at most a group: chmod 0640 \(path)")
        }
        var token: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count >= 0 else {
                throw JobCredsError(.usage, "cannot read the token file \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            token.append(contentsOf: buffer[0..<count])
            guard token.count <= 4096 else {
                throw JobCredsError(.usage, "the token file \(path) is larger than 4096 bytes")
            }
        }
        guard !token.isEmpty else {
            throw JobCredsError(.usage, "the token file \(path) is empty: delete it to have one made, or write a token")
        }
        guard !token.contains(UInt8(ascii: "\n")), !token.contains(UInt8(ascii: "\r")) else {
            throw JobCredsError(
                .usage,
                "the token file \(path) contains a line break; the AWS SDKs send the file as it is, so a trailing "
                    + "newline breaks them: write it with `printf %s`, not `echo`")
        }
        return token
    }

    /// `mode` as `parseMode` reads it: `0600`.
    public static func formatMode(_ mode: mode_t) -> String {
        "0" + String(mode, radix: 8)
    }

    /// Parses a mode such as `0600` or `640`.
    public static func parseMode(_ text: String) throws(JobCredsError) -> mode_t {
        guard let mode = mode_t(text, radix: 8), mode & ~0o777 == 0, mode & 0o600 == 0o600, mode & 0o007 == 0 else {
            throw JobCredsError(
                .usage,
                "--token-file-mode \(text) must be an octal mode readable and writable by the owner and not by "
                    + "others, such as 0600 or 0640")
        }
        return mode
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
