/// Where audit lines go. Each `write` is one complete JSON line; it returns only once the line is
/// handed to the kernel, so a request's line is written before its response is sent.
///
/// Thread-safety: implementations accept concurrent writes and never interleave lines.
public protocol AuditSink: Sendable {
    /// Writes one line given as UTF-8 bytes, without its newline (one is added).
    /// - Returns: false if the line could not be written.
    @discardableResult func write(line: [UInt8]) -> Bool
}
