import Glibc

/// Standard error, written a line at a time: each line and its newline in one unbuffered
/// `write`, so lines from several threads never interleave.
public enum StandardError {
    /// Writes `line` and a newline.
    @Sendable public static func writeLine(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
