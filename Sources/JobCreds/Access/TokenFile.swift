import CryptoPrimitives
import Glibc

/// The token build tools must send, kept in a file they can read
/// (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
///
/// A missing file is created exclusively (`O_CREAT|O_EXCL`, never through a symlink) with the
/// given mode, holding 32 bytes from OpenSSL's RNG as 64 hex characters and **no trailing
/// newline** (botocore, Go and Rust send the file's bytes as they are). An existing file is used
/// as it is if it is a regular file of the sidecar's user (or root) that no one else can write
/// or read (`TrustedFile`), holding at least 32 printable characters and no line break.
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

    /// The fewest bytes a token may have (a made one has 64).
    public static let minimumLength = 32

    /// What a token file must be (`TrustedFile`): a regular file of the sidecar's user or root,
    /// writable by nobody else, readable by at most a group.
    static let rules = TrustedFile.Rules(what: "the token file", othersMayRead: false)

    /// Reads and checks an existing token file: at least `minimumLength` bytes, every one
    /// printable ASCII other than a space (what an `Authorization` header carries as it is).
    public static func read(at path: String) throws(JobCredsError) -> [UInt8] {
        let token = try TrustedFile.read(path, rules: rules)
        guard !token.isEmpty else {
            throw JobCredsError(.usage, "the token file \(path) is empty: delete it to have one made, or write a token")
        }
        guard !token.contains(UInt8(ascii: "\n")), !token.contains(UInt8(ascii: "\r")) else {
            throw JobCredsError(
                .usage,
                "the token file \(path) contains a line break; the AWS SDKs send the file as it is, so a trailing "
                    + "newline breaks them: write it with `printf %s`, not `echo`")
        }
        guard token.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw JobCredsError(
                .usage,
                "the token file \(path) holds a space or a byte that is not printable ASCII; delete it to have one "
                    + "made, or write one of letters, digits and punctuation")
        }
        guard token.count >= minimumLength else {
            throw JobCredsError(
                .usage,
                "the token file \(path) holds \(token.count) bytes, fewer than \(minimumLength): too easy to guess; "
                    + "delete it to have one made (64 hex characters)")
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
