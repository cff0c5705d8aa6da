/// Why an archive was refused or could not be read or written. The description names the entry
/// (when there is one) and the fault; it quotes nothing but the entry's name and sizes.
public struct ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of fault.
    public enum Code: String, Sendable, CaseIterable {
        /// The bytes are not an archive of the format asked for (no end-of-central-directory record).
        case notAnArchive
        /// The archive ends before a structure it declares.
        case truncated
        /// The central directory, the end records or an entry's fields are inconsistent.
        case corrupt
        /// A local header disagrees with the central directory (name, method, flags, sizes, CRC).
        case headerMismatch
        /// Two entries' bytes overlap, or an entry runs into the central directory.
        case overlap
        /// An entry is encrypted.
        case encrypted
        /// The archive spans several disks.
        case multiDisk
        /// An entry uses a compression method other than stored or deflate.
        case unsupportedMethod
        /// An entry inflates past its declared size, or declares an impossible ratio.
        case sizeMismatch
        /// An entry's CRC-32 is not the one declared.
        case checksumMismatch
        /// More entries than allowed.
        case tooManyEntries
        /// libarchive refused the archive or the write.
        case library
    }

    /// The kind of fault.
    public var code: Code
    /// The entry at fault, as its name's bytes decode (lossily), or nil for the archive as a whole.
    public var entry: String?
    /// What is wrong.
    public var message: String

    /// An error for `entry` (nil: the archive).
    public init(_ code: Code, _ message: String, entry: String? = nil) {
        self.code = code
        self.message = message
        self.entry = entry
    }

    public var description: String {
        entry.map { "\($0): \(message)" } ?? message
    }
}
