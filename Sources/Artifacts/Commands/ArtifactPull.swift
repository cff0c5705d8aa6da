import Archive
import HTTPTransport

#if canImport(Glibc)
    import Glibc
#endif

/// `jobcreds artifacts pull NAME DIR`: the input artifact downloaded beside DIR into a private
/// unnamed file, checked whole, extracted into a private directory, renamed to DIR.
public struct ArtifactPull: Sendable {
    public var artifact: String
    public var destination: String
    public var format: ArtifactFormat
    public var limits: ExtractionLimits

    public init(artifact: String, destination: String, format: ArtifactFormat, limits: ExtractionLimits) {
        self.artifact = artifact
        self.destination = destination
        self.format = format
        self.limits = limits
    }

    /// What a pull did.
    public struct Summary: Sendable {
        public var artifact: String
        public var object: ObjectTransfer.Downloaded
        public var format: ArtifactFormat
        public var extraction: ExtractionSummary
        public var seconds: Double

        /// The JSON line `pull` prints.
        public var line: String {
            var line = SummaryLine()
            line.add("artifact", artifact)
            line.add("bucket", object.bucket)
            line.add("key", object.key)
            line.add("etag", object.etag)
            line.add("bytes", object.bytes)
            line.add("format", format.rawValue)
            line.add("entries", extraction.entries)
            line.add("files", extraction.files)
            line.add("dirs", extraction.directories)
            line.add("symlinks", extraction.symlinks)
            line.add("extracted_bytes", extraction.bytes)
            line.add("special_bits_dropped", extraction.specialBitsDropped)
            line.add("seconds", seconds: seconds)
            return line.text
        }
    }

    /// Pulls through `transfer`.
    public func run(_ transfer: ObjectTransfer) async throws(ArtifactError) -> Summary {
        let started = Self.now()
        let parent = try checkDestination()
        let file = try FileSystem.anonymousFile(in: parent)
        defer { close(file) }
        var sniffed: ArtifactFormat?
        let format = self.format
        let limits = self.limits
        let downloaded = try await transfer.download(into: file) { (length, prefix) throws(ArtifactError) in
            guard UInt64(length) <= limits.maxArchive else {
                throw ArtifactError(
                    .tooLarge, "the object is \(length) bytes, over --max-archive \(ByteSize.shown(limits.maxArchive))")
            }
            guard UInt64(length) <= FileSystem.freeBytes(at: parent) else {
                throw ArtifactError(.notEnoughSpace, "the object is \(length) bytes, more than \(parent) has free")
            }
            sniffed = ArtifactFormat.sniff(prefix)
            if format == .auto, sniffed == nil {
                throw ArtifactError(
                    .notAnArchive, "the object is not a zip, tar or gzip archive (--format raw keeps it as one file)")
            }
        }
        let resolved = format == .auto ? sniffed ?? .raw : format
        let summary: ExtractionSummary
        if resolved == .raw {
            summary = try keepRaw(file, length: downloaded.bytes, parent: parent)
        } else {
            summary = try ArchiveExtraction.extract(descriptor: file, format: resolved, to: destination, limits: limits)
        }
        return Summary(
            artifact: artifact, object: downloaded, format: resolved, extraction: summary,
            seconds: Self.now() - started)
    }

    /// DIR absent or an empty directory, its parent a directory; returns the parent.
    private func checkDestination() throws(ArtifactError) -> String {
        let (parent, _) = FileSystem.split(destination)
        var info = stat()
        guard stat(parent, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw ArtifactError(.fileSystem, "\(parent) (DIR's parent) is not a directory")
        }
        if lstat(destination, &info) == 0 {
            // rename(2) replaces an empty directory, so an empty DIR stays until the tree takes its place.
            guard info.st_mode & S_IFMT == S_IFDIR, Self.isEmptyDirectory(destination) else {
                throw ArtifactError(
                    .destinationExists, "\(destination) exists and is not an empty directory: pull into a new one")
            }
        }
        return parent
    }

    /// `--format raw`: DIR holding the object as one file named after the artifact.
    private func keepRaw(_ file: Int32, length: Int64, parent: String) throws(ArtifactError) -> ExtractionSummary {
        let tree = try ExtractionTree(in: parent)
        do throws(ArtifactError) {
            guard case .success(.entry(let path, _)) = EntryPath.parse(Array(artifact.utf8)) else {
                throw ArtifactError(.usage, "the artifact's name cannot be a file name")
            }
            let target = try tree.createFile(path)
            defer { close(target) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
            defer { buffer.deallocate() }
            var copied: Int64 = 0
            while copied < length {
                let count = pread(file, buffer.baseAddress, min(buffer.count, Int(length - copied)), off_t(copied))
                guard count > 0, FileSystem.write(target, UnsafeRawBufferPointer(rebasing: buffer[..<count])) else {
                    throw ArtifactError(.fileSystem, "cannot copy the object: \(FileSystem.reason())")
                }
                copied += Int64(count)
            }
            fchmod(target, 0o644)
            try tree.finishDirectories(
                ExtractionPlan(entries: [], directories: [], directoryModes: [:], totalSize: 0, specialBitsDropped: 0))
            try tree.commit(to: destination)
        } catch {
            tree.discard()
            throw error
        }
        return ExtractionSummary(
            entries: 1, files: 1, directories: 0, symlinks: 0, bytes: UInt64(length), specialBitsDropped: 0)
    }

    private static func isEmptyDirectory(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return Trees.names(in: descriptor)?.isEmpty ?? false
    }

    static func now() -> Double {
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        return Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
    }
}
