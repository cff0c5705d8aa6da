import Archive

/// Everything an archive will write, decided before anything is: each entry admitted by
/// `EntryPath`, its kind and mode, the directories it implies, checked as a whole.
///
/// Refused: the same path twice, or a file where another entry needs a directory
/// (`DuplicateEntry`); an entry below a symbolic link entry (`PathThroughSymlink`); a link whose
/// target is absolute, climbs out of the root or leads through another link (`SymlinkEscapes`);
/// a device, FIFO or socket (`SpecialFile`); a hard link (`HardLink`); more entries or bytes than
/// the limits allow, or than the disk has room for. Setuid, setgid and sticky bits are dropped
/// and counted.
public struct ExtractionPlan: Sendable {
    /// One entry as it will be written.
    public struct Entry: Sendable, Equatable {
        /// What the entry is.
        public enum Kind: Sendable, Equatable {
            /// A regular file of `size` bytes; `crc32` when the archive declares one.
            case file(size: UInt64, crc32: UInt32?)
            case directory
            case symlink(target: String)
        }

        /// Where it goes.
        public var path: EntryPath
        /// What it is.
        public var kind: Kind
        /// Its permission bits (`0o777` at most: the special bits are dropped).
        public var permissions: UInt32
        /// Its modification time, in seconds since 1970.
        public var modified: Int64
    }

    /// An entry as an archive describes it, before the rules.
    public struct Candidate: Sendable {
        /// What the archive says an entry is.
        public enum Kind: Sendable, Equatable {
            case file(size: UInt64, crc32: UInt32?)
            case directory
            case symlink(target: [UInt8])
            case hardlink
            case special
        }

        public var name: [UInt8]
        public var kind: Kind
        /// The mode's permission bits, special bits included.
        public var permissions: UInt32
        public var modified: Int64

        public init(name: [UInt8], kind: Kind, permissions: UInt32, modified: Int64) {
            self.name = name
            self.kind = kind
            self.permissions = permissions
            self.modified = modified
        }
    }

    /// The entries in archive order; nil where a candidate named the root (`./`), which is skipped.
    public var entries: [Entry?]
    /// Every directory to make, explicit or implied, parents first.
    public var directories: [EntryPath]
    /// The modes of the explicit directories (implied ones get 0755).
    public var directoryModes: [EntryPath: (permissions: UInt32, modified: Int64)]
    /// The bytes the files extract to.
    public var totalSize: UInt64
    /// How many entries had setuid, setgid or sticky bits, dropped.
    public var specialBitsDropped: Int

    /// Counts for the summary.
    public var files: Int { entries.filter { if case .file = $0?.kind { true } else { false } }.count }
    public var symlinks: Int { entries.filter { if case .symlink = $0?.kind { true } else { false } }.count }

    /// Plans `candidates` under `limits`, with `freeBytes` of room on the destination's disk.
    public static func make(
        _ candidates: [Candidate], limits: ExtractionLimits, freeBytes: UInt64
    ) -> Result<ExtractionPlan, ArtifactError> {
        do throws(ArtifactError) {
            return .success(try plan(candidates, limits: limits, freeBytes: freeBytes))
        } catch {
            return .failure(error)
        }
    }

    private static func plan(
        _ candidates: [Candidate], limits: ExtractionLimits, freeBytes: UInt64
    ) throws(ArtifactError) -> ExtractionPlan {
        guard candidates.count <= limits.maxEntries else {
            throw ArtifactError(
                .tooManyEntries,
                "the archive has \(candidates.count) entries, more than --max-entries \(limits.maxEntries)")
        }
        var entries: [Entry?] = []
        var kinds: [EntryPath: Entry.Kind] = [:]
        var directoryModes: [EntryPath: (UInt32, Int64)] = [:]
        var total: UInt64 = 0
        var specialBits = 0
        for candidate in candidates {
            let parsed: EntryPath.Parsed
            switch EntryPath.parse(candidate.name) {
            case .success(let admitted): parsed = admitted
            case .failure(let error): throw error
            }
            guard case .entry(let path, let namedDirectory) = parsed else {
                entries.append(nil)
                continue
            }
            let kind: Entry.Kind
            switch candidate.kind {
            case .file(let size, let crc32):
                guard !namedDirectory else {
                    throw ArtifactError(.unsafeName, "\(path.text)/: a file entry's name ends with /")
                }
                kind = .file(size: size, crc32: crc32)
                let (sum, overflow) = total.addingReportingOverflow(size)
                guard !overflow, sum <= limits.maxSize else {
                    throw ArtifactError(
                        .tooLarge, "the entries extract to more than --max-size \(ByteSize.shown(limits.maxSize))")
                }
                total = sum
            case .directory:
                kind = .directory
            case .symlink(let target):
                guard let text = String(validating: target, as: UTF8.self), !namedDirectory else {
                    throw ArtifactError(.symlinkEscapes, "\(path.text): the link's target is not UTF-8")
                }
                kind = .symlink(target: text)
            case .hardlink:
                throw ArtifactError(.hardLink, "\(path.text): hard links are not extracted")
            case .special:
                throw ArtifactError(.specialFile, "\(path.text): devices, FIFOs and sockets are not extracted")
            }
            if let existing = kinds[path] {
                let what = existing == .directory && kind == .directory ? "twice" : "twice, as different kinds"
                throw ArtifactError(.duplicateEntry, "\(path.text): the archive holds this path \(what)")
            }
            kinds[path] = kind
            if candidate.permissions & UnixMode.specialBits != 0 { specialBits += 1 }
            let permissions = candidate.permissions & 0o777
            if kind == .directory { directoryModes[path] = (permissions, candidate.modified) }
            entries.append(Entry(path: path, kind: kind, permissions: permissions, modified: candidate.modified))
        }
        // Every ancestor of an entry must be a directory: an implied one, or a directory entry.
        var directories = Set(directoryModes.keys)
        for case let entry? in entries {
            for ancestor in entry.path.ancestors {
                switch kinds[ancestor] {
                case .symlink?:
                    throw ArtifactError(
                        .pathThroughSymlink, "\(entry.path.text): the path goes through the link \(ancestor.text)")
                case .file?:
                    throw ArtifactError(
                        .duplicateEntry,
                        "\(entry.path.text): \(ancestor.text) is a file in the archive, not a directory")
                case .directory?, nil:
                    directories.insert(ancestor)
                }
            }
        }
        for case let entry? in entries {
            guard case .symlink(let target) = entry.kind else { continue }
            let isLink = { (path: EntryPath) in if case .symlink? = kinds[path] { true } else { false } }
            guard entry.path.resolving(Array(target.utf8), isLink: isLink) != nil else {
                throw ArtifactError(
                    .symlinkEscapes,
                    "\(entry.path.text): the link's target leads out of the tree or through another link")
            }
        }
        let needed = total + UInt64(entries.count) * 4096
        guard needed <= freeBytes else {
            throw ArtifactError(
                .notEnoughSpace,
                "the entries need \(ByteSize.shown(needed)) and the destination's disk has \(ByteSize.shown(freeBytes))"
            )
        }
        return ExtractionPlan(
            entries: entries, directories: directories.sorted(),
            directoryModes: directoryModes.mapValues { (permissions: $0.0, modified: $0.1) }, totalSize: total,
            specialBitsDropped: specialBits)
    }
}
