/// What `pull` accepts: checked against the archive's own declarations before anything is written.
public struct ExtractionLimits: Sendable {
    /// The most bytes the entries may extract to (`--max-size`).
    public var maxSize: UInt64
    /// The most entries (`--max-entries`).
    public var maxEntries: Int
    /// The largest archive downloaded (`--max-archive`).
    public var maxArchive: UInt64

    /// Limits; the defaults are README's.
    public init(maxSize: UInt64 = 50 << 30, maxEntries: Int = 1_000_000, maxArchive: UInt64 = 20 << 30) {
        self.maxSize = maxSize
        self.maxEntries = maxEntries
        self.maxArchive = maxArchive
    }
}
