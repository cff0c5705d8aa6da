import Archive

/// Why `jobcreds artifacts pull` or `push` stopped. The code is the wire spelling (README's
/// table), the message names the entry or path and never holds a URL's signature or a token.
public struct ArtifactError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; each belongs to one `Category`, whose exit status the command returns.
    public enum Code: String, Sendable, CaseIterable {
        // The archive (pull) or the tree (push) is refused: exit 5.
        case notAnArchive = "NotAnArchive"
        case truncatedArchive = "TruncatedArchive"
        case corruptArchive = "CorruptArchive"
        case headerMismatch = "HeaderMismatch"
        case overlappingEntries = "OverlappingEntries"
        case encryptedArchive = "EncryptedArchive"
        case multiDiskArchive = "MultiDiskArchive"
        case unsupportedCompression = "UnsupportedCompression"
        case entrySizeMismatch = "EntrySizeMismatch"
        case checksumMismatch = "ChecksumMismatch"
        case absolutePath = "AbsolutePath"
        case dotDotComponent = "DotDotComponent"
        case backslashInName = "BackslashInName"
        case unsafeName = "UnsafeName"
        case invalidUTF8Name = "InvalidUTF8Name"
        case duplicateEntry = "DuplicateEntry"
        case pathThroughSymlink = "PathThroughSymlink"
        case symlinkEscapes = "SymlinkEscapes"
        case specialFile = "SpecialFile"
        case hardLink = "HardLink"
        case symlinkInTree = "SymlinkInTree"
        case fileChanged = "FileChanged"
        // A limit: exit 7.
        case tooManyEntries = "TooManyEntries"
        case tooLarge = "TooLarge"
        case notEnoughSpace = "NotEnoughSpace"
        // The local filesystem: exit 6.
        case destinationExists = "DestinationExists"
        case sourceUnusable = "SourceUnusable"
        case fileSystem = "FileSystemError"
        // The sidecar: exit 3.
        case sidecarUnavailable = "SidecarUnavailable"
        case sidecarRefused = "SidecarRefused"
        case artifactNotFound = "ArtifactNotFound"
        // S3 or the network: exit 4.
        case objectNotFound = "ObjectNotFound"
        case accessDenied = "AccessDenied"
        case sourceChanged = "SourceChanged"
        case transferFailed = "TransferFailed"
        case uploadNotEncrypted = "UploadNotEncrypted"
        // A flag: exit 64.
        case usage = "Usage"

        /// Its category.
        public var category: Category {
            switch self {
            case .tooManyEntries, .tooLarge, .notEnoughSpace: .limit
            case .destinationExists, .sourceUnusable, .fileSystem: .fileSystem
            case .sidecarUnavailable, .sidecarRefused, .artifactNotFound: .sidecar
            case .objectNotFound, .accessDenied, .sourceChanged, .transferFailed, .uploadNotEncrypted: .transfer
            case .usage: .usage
            default: .refused
            }
        }
    }

    /// The kinds of failure, each with its exit status.
    public enum Category: Int32, Sendable {
        case usage = 64
        case sidecar = 3
        case transfer = 4
        case refused = 5
        case fileSystem = 6
        case limit = 7
    }

    /// What went wrong.
    public var code: Code
    /// A sentence naming the entry or path and, where there is one, the fix.
    public var message: String

    /// An error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `archive`'s fault as this module's code.
    public init(_ archive: ArchiveError) {
        let code: Code =
            switch archive.code {
            case .notAnArchive: .notAnArchive
            case .truncated: .truncatedArchive
            case .corrupt, .library: .corruptArchive
            case .headerMismatch: .headerMismatch
            case .overlap: .overlappingEntries
            case .encrypted: .encryptedArchive
            case .multiDisk: .multiDiskArchive
            case .unsupportedMethod: .unsupportedCompression
            case .sizeMismatch: .entrySizeMismatch
            case .checksumMismatch: .checksumMismatch
            case .tooManyEntries: .tooManyEntries
            }
        self.init(code, archive.description)
    }

    /// `error` as this module's: an `ArchiveError` mapped, an `ArtifactError` itself.
    init(any error: any Error) {
        switch error {
        case let error as ArtifactError: self = error
        case let error as ArchiveError: self.init(error)
        default: self.init(.corruptArchive, "\(error)")
        }
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
