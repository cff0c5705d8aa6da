import Archive

#if canImport(Glibc)
    import Glibc
#endif

/// The formats `pull` reads (`--format`).
public enum ArtifactFormat: String, Sendable, CaseIterable {
    /// By magic bytes: zip, gzip (a tgz) or a ustar header.
    case auto
    case zip
    case tar
    case tgz
    /// The object as one file, not unpacked (an S3 source that is not an archive).
    case raw

    /// The format `prefix` (the first 512 bytes or fewer) shows, or nil.
    public static func sniff(_ prefix: [UInt8]) -> ArtifactFormat? {
        if prefix.starts(with: [0x50, 0x4b, 0x03, 0x04]) || prefix.starts(with: [0x50, 0x4b, 0x05, 0x06]) {
            return .zip
        }
        if prefix.starts(with: [0x1f, 0x8b]) { return .tgz }
        if prefix.count >= 262, prefix[257..<262].elementsEqual("ustar".utf8) { return .tar }
        return nil
    }
}

/// What an extraction wrote, for the summary line.
public struct ExtractionSummary: Sendable, Equatable {
    public var entries: Int
    public var files: Int
    public var directories: Int
    public var symlinks: Int
    /// The bytes the files hold.
    public var bytes: UInt64
    /// Entries whose setuid, setgid or sticky bits were dropped.
    public var specialBitsDropped: Int
}

/// Checks a whole archive, then extracts it through `ExtractionTree`: nothing is written before
/// every entry has passed, and nothing is left at the destination unless every entry was written.
public enum ArchiveExtraction {
    /// Extracts the archive in the regular file at `descriptor` (the caller's) to `destination`,
    /// which must be absent or an empty directory; its parent must exist.
    public static func extract(
        descriptor: Int32, format: ArtifactFormat, to destination: String, limits: ExtractionLimits
    ) throws(ArtifactError) -> ExtractionSummary {
        let (parent, _) = FileSystem.split(destination)
        let inspected = try inspect(
            descriptor: descriptor, format: format, limits: limits, freeBytes: FileSystem.freeBytes(at: parent))
        let tree = try ExtractionTree(in: parent)
        do {
            try write(inspected, from: descriptor, into: tree)
            try tree.commit(to: destination)
        } catch {
            tree.discard()
            throw error
        }
        let plan = inspected.plan
        return ExtractionSummary(
            entries: plan.entries.count, files: plan.files, directories: plan.directories.count,
            symlinks: plan.symlinks, bytes: plan.totalSize, specialBitsDropped: plan.specialBitsDropped)
    }

    /// Checks the archive in the regular file at `descriptor` as `pull` does before it writes
    /// anything (the zip central-directory check, every header through libarchive, the plan),
    /// writing nothing; the plan, or why the archive is refused.
    public static func check(
        descriptor: Int32, format: ArtifactFormat, limits: ExtractionLimits, freeBytes: UInt64
    ) throws(ArtifactError) -> ExtractionPlan {
        try inspect(descriptor: descriptor, format: format, limits: limits, freeBytes: freeBytes).plan
    }

    /// An archive read once and planned.
    struct Inspected {
        var format: ArchiveReader.Format
        var plan: ExtractionPlan
        /// What pass 2 must see again, entry by entry: its kind and size as pass 1 saw them.
        var expected: [ArchiveReader.Header]
    }

    /// Pass 1: the zip central-directory check, then every header through libarchive.
    static func inspect(
        descriptor: Int32, format: ArtifactFormat, limits: ExtractionLimits, freeBytes: UInt64
    ) throws(ArtifactError) -> Inspected {
        let readerFormat: ArchiveReader.Format
        switch format {
        case .zip: readerFormat = .zip
        case .tar: readerFormat = .tar
        case .tgz: readerFormat = .tgz
        case .auto, .raw: throw ArtifactError(.usage, "inspect takes a resolved archive format")
        }
        do {
            var records: [ZipDirectory.Record]?
            if readerFormat == .zip {
                let read = try ZipDirectory.read(FileBytes(descriptor: descriptor), maxEntries: limits.maxEntries)
                // The names first: libarchive would stop at one that is not UTF-8 with its own message.
                for record in read.records {
                    if case .failure(let error) = EntryPath.parse(record.name) { throw error }
                }
                records = read.records
            }
            let reader = try ArchiveReader(descriptor: descriptor, format: readerFormat)
            var headers: [ArchiveReader.Header] = []
            while let header = try reader.next() {
                guard headers.count < limits.maxEntries else {
                    throw ArchiveError(
                        .tooManyEntries, "the archive has more than --max-entries \(limits.maxEntries) entries")
                }
                headers.append(header)
            }
            let candidates: [ExtractionPlan.Candidate]
            if let records {
                candidates = try zipCandidates(records, headers)
            } else {
                candidates = headers.map(tarCandidate)
            }
            switch ExtractionPlan.make(candidates, limits: limits, freeBytes: freeBytes) {
            case .success(let plan): return Inspected(format: readerFormat, plan: plan, expected: headers)
            case .failure(let error): throw error
            }
        } catch {
            throw ArtifactError(any: error)
        }
    }

    /// A zip's entries from its central directory (names, modes, sizes, CRC-32s: this code's own
    /// reading) and libarchive's headers (times, link targets), which must agree on kind and size.
    private static func zipCandidates(
        _ records: [ZipDirectory.Record], _ headers: [ArchiveReader.Header]
    ) throws(ArchiveError) -> [ExtractionPlan.Candidate] {
        guard records.count == headers.count else {
            throw ArchiveError(
                .headerMismatch, "libarchive reads \(headers.count) entries where the directory holds \(records.count)")
        }
        var candidates: [ExtractionPlan.Candidate] = []
        candidates.reserveCapacity(records.count)
        for (record, header) in zip(records, headers) {
            let kind: ExtractionPlan.Candidate.Kind
            var permissions: UInt32
            if let mode = record.unixMode {
                permissions = mode & 0o7777
                switch mode & UnixMode.typeMask {
                case UnixMode.regular: kind = .file(size: record.size, crc32: record.crc32)
                case UnixMode.directory: kind = .directory
                case UnixMode.symlink:
                    guard case .symlink(let target) = header.kind else {
                        throw ArchiveError(
                            .headerMismatch, "libarchive does not read it as a link", entry: record.shownName)
                    }
                    kind = .symlink(target: target)
                case 0: kind = record.namesDirectory ? .directory : .file(size: record.size, crc32: record.crc32)
                default: kind = .special
                }
                // Permission bits without a type (Python's writestr: 0600): the bits stand; no bits at all, the defaults.
                if mode & UnixMode.typeMask == 0, permissions == 0 {
                    permissions = record.namesDirectory ? 0o755 : 0o644
                }
            } else {
                // Made elsewhere (Windows, Java): no Unix mode; the usual defaults.
                kind = record.namesDirectory ? .directory : .file(size: record.size, crc32: record.crc32)
                permissions = record.namesDirectory ? 0o755 : 0o644
            }
            switch (kind, header.kind) {
            case (.file, .file), (.directory, .directory), (.symlink, .symlink), (.special, _): break
            default:
                throw ArchiveError(
                    .headerMismatch, "libarchive reads a different kind of entry", entry: record.shownName)
            }
            if case .file = kind, let size = header.size, size != record.size {
                throw ArchiveError(.headerMismatch, "libarchive reads another size", entry: record.shownName)
            }
            candidates.append(
                ExtractionPlan.Candidate(
                    name: record.name, kind: kind, permissions: permissions, modified: header.modified))
        }
        return candidates
    }

    private static func tarCandidate(_ header: ArchiveReader.Header) -> ExtractionPlan.Candidate {
        let kind: ExtractionPlan.Candidate.Kind =
            switch header.kind {
            case .file: .file(size: header.size ?? 0, crc32: nil)
            case .directory: .directory
            case .symlink(let target): .symlink(target: target)
            case .hardlink: .hardlink
            case .special: .special
            }
        return ExtractionPlan.Candidate(
            name: header.path, kind: kind, permissions: header.permissions, modified: header.modified)
    }

    /// Pass 2: directories, then each file's bytes as libarchive inflates them (counted, bounded
    /// by the declared size, CRC-32 checked here), then links, then the directories' modes.
    private static func write(
        _ inspected: Inspected, from descriptor: Int32, into tree: ExtractionTree
    ) throws(ArtifactError) {
        let plan = inspected.plan
        try tree.makeDirectories(plan.directories)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        do {
            let reader = try ArchiveReader(descriptor: descriptor, format: inspected.format)
            for (index, planned) in plan.entries.enumerated() {
                guard let header = try reader.next(), header.kind == inspected.expected[index].kind,
                    header.size == inspected.expected[index].size
                else {
                    throw ArchiveError(.headerMismatch, "the archive reads differently the second time")
                }
                guard let planned, case .file(let size, let crc32) = planned.kind else { continue }
                let file = try tree.createFile(planned.path)
                defer { close(file) }
                var checksum = CRC32()
                var written: UInt64 = 0
                while true {
                    let count = try reader.read(into: buffer)
                    if count == 0 { break }
                    let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<count])
                    written += UInt64(count)
                    guard written <= size else {
                        throw ArchiveError(
                            .sizeMismatch, "inflates past its declared \(size) bytes", entry: planned.path.text)
                    }
                    checksum.update(chunk)
                    guard FileSystem.write(file, chunk) else {
                        throw ArtifactError(.fileSystem, "cannot write \(planned.path.text): \(FileSystem.reason())")
                    }
                }
                guard written == size else {
                    throw ArchiveError(
                        .truncated, "holds \(written) of its declared \(size) bytes", entry: planned.path.text)
                }
                if let crc32, checksum.value != crc32 {
                    throw ArchiveError(
                        .checksumMismatch, "its CRC-32 is not the one declared", entry: planned.path.text)
                }
                var times = [
                    timespec(tv_sec: Int(planned.modified), tv_nsec: 0),
                    timespec(tv_sec: Int(planned.modified), tv_nsec: 0),
                ]
                guard fchmod(file, mode_t(planned.permissions)) == 0, futimens(file, &times) == 0 else {
                    throw ArtifactError(
                        .fileSystem, "cannot set the mode of \(planned.path.text): \(FileSystem.reason())")
                }
            }
        } catch {
            throw ArtifactError(any: error)
        }
        for case let planned? in plan.entries {
            if case .symlink(let target) = planned.kind {
                try tree.createSymlink(planned.path, target: target, modified: planned.modified)
            }
        }
        try tree.finishDirectories(plan)
    }
}
