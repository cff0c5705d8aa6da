import Archive
import CryptoPrimitives

#if canImport(Glibc)
    import Glibc
#endif

/// How `push` makes its zip.
public struct PackingSettings: Sendable {
    /// What a link in the tree becomes.
    public var symlinks: SymlinkPolicy
    /// The deflate level, 0 (store everything) to 9.
    public var level: Int
    /// `SOURCE_DATE_EPOCH`: no entry's time is later, so the same tree gives the same bytes.
    public var sourceDateEpoch: Int64?
    /// The user every entry must belong to (the worker pushing a build's tree as root: a file the
    /// build merely linked in, someone else's, is refused, not read with the worker's rights).
    public var owner: UInt32?

    public init(symlinks: SymlinkPolicy = .keep, level: Int = 6, sourceDateEpoch: Int64? = nil, owner: UInt32? = nil) {
        self.symlinks = symlinks
        self.level = level
        self.sourceDateEpoch = sourceDateEpoch
        self.owner = owner
    }
}

/// A zip made from a tree, in an unnamed temporary file: its descriptor, length and SHA-256.
public final class PackedArchive {
    /// The open file holding the archive; closed (and so gone) with this object.
    public let descriptor: Int32
    public let length: UInt64
    public let sha256: [UInt8]
    public let entries: Int

    init(descriptor: Int32, length: UInt64, sha256: [UInt8], entries: Int) {
        self.descriptor = descriptor
        self.length = length
        self.sha256 = sha256
        self.entries = entries
    }

    deinit { close(descriptor) }
}

/// Packs a directory's contents (or one file) into a zip every consumer reads: entries sorted by
/// name, directories (empty ones too) with their modes, regular files deflated (stored when the
/// suffix or a sample of the bytes says the content is compressed already: `Compressibility`),
/// links per `SymlinkPolicy`.
///
/// A file is read through a descriptor opened without following links and checked to be the file
/// the walk saw (device and inode); its size and time are checked again after its bytes are read,
/// so a file that changes while it is read is `FileChanged`, not a torn entry.
public enum ZipPacking {
    /// Suffixes of content that deflate would not shrink.
    static let storedSuffixes: Set<String> = [
        "zip", "jar", "war", "ear", "whl", "apk", "gz", "tgz", "bz2", "xz", "zst", "lz4", "7z", "rar", "png", "jpg",
        "jpeg", "gif", "webp", "mp4", "mp3", "woff", "woff2",
    ]

    /// Packs `source` into a new unnamed file in `temporaryDirectory`.
    public static func pack(
        _ source: String, settings: PackingSettings, temporaryDirectory: String
    ) throws(ArtifactError) -> PackedArchive {
        let (walk, isFile) = try TreeWalk.walk(source, policy: settings.symlinks, owner: settings.owner)
        if settings.symlinks == .keep { try walk.checkLinks() }
        let output = try FileSystem.anonymousFile(in: temporaryDirectory)
        var handedOver = false
        defer { if !handedOver { close(output) } }
        let hasher = SHA256.Hasher()
        final class Count { var bytes: UInt64 = 0; var failure: Int32 = 0 }
        let count = Count()
        do {
            let writer = try ZipWriter(level: settings.level) { bytes in
                guard FileSystem.write(output, bytes) else {
                    count.failure = errno
                    return false
                }
                hasher.update(bytes)
                count.bytes += UInt64(bytes.count)
                return true
            }
            let root = isFile ? FileSystem.split(source).parent : source
            try add(walk.entries, from: root, to: writer, settings: settings)
            try writer.finish()
        } catch let error as ArchiveError {
            if count.failure != 0 {
                throw ArtifactError(
                    .fileSystem,
                    "cannot write the archive in \(temporaryDirectory): \(String(cString: strerror(count.failure)))")
            }
            throw ArtifactError(.fileSystem, "cannot make the archive: \(error)")
        } catch let error as ArtifactError {
            throw error
        } catch {
            throw ArtifactError(.fileSystem, "cannot make the archive: \(error)")
        }
        handedOver = true
        return PackedArchive(
            descriptor: output, length: count.bytes, sha256: hasher.finish(), entries: walk.entries.count)
    }

    private static func add(
        _ entries: [TreeWalk.Entry], from root: String, to writer: ZipWriter, settings: PackingSettings
    ) throws(ArtifactError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        let rootDescriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootDescriptor >= 0 else {
            throw ArtifactError(.sourceUnusable, "cannot open \(root): \(FileSystem.reason())")
        }
        defer { close(rootDescriptor) }
        for entry in entries {
            let modified = settings.sourceDateEpoch.map { min($0, entry.modified) } ?? entry.modified
            do {
                switch entry.kind {
                case .directory:
                    try writer.addDirectory(
                        path: entry.path.text + "/", permissions: entry.permissions, modified: modified)
                case .symlink(let target):
                    try writer.addSymlink(path: entry.path.text, target: target, modified: modified)
                case .file(let size, let device, let inode):
                    let file = try openFile(entry, in: rootDescriptor, device: device, inode: inode)
                    defer { close(file) }
                    let suffix = entry.path.leaf.split(separator: ".").last.map { $0.lowercased() } ?? ""
                    let compress =
                        settings.level > 0 && !storedSuffixes.contains(suffix)
                        && Compressibility.worthDeflating(file, size: size, buffer: buffer)
                    try writer.beginFile(
                        path: entry.path.text, permissions: entry.permissions, modified: modified, size: size,
                        compress: compress)
                    try copy(file, size: size, entry: entry, to: writer, buffer: buffer)
                }
            } catch let error as ArtifactError {
                throw error
            } catch {
                throw ArtifactError(.fileSystem, "cannot add \(entry.path.text): \(error)")
            }
        }
    }

    /// Opens the file the walk saw, through the tree's directories, never following a link the
    /// walk did not follow.
    private static func openFile(
        _ entry: TreeWalk.Entry, in root: Int32, device: UInt64, inode: UInt64
    ) throws(ArtifactError) -> Int32 {
        let follow = entry.followed ? 0 : O_NOFOLLOW
        var directory = dup(root)
        for component in entry.path.components.dropLast() {
            let next = openat(directory, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC | follow)
            close(directory)
            guard next >= 0 else {
                throw ArtifactError(.fileChanged, "\(entry.path.text): the tree changed as it was read")
            }
            directory = next
        }
        defer { close(directory) }
        let file = openat(directory, entry.path.leaf, O_RDONLY | O_CLOEXEC | O_NONBLOCK | follow)
        var info = stat()
        guard file >= 0, fstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG, UInt64(info.st_dev) == device,
            UInt64(info.st_ino) == inode
        else {
            if file >= 0 { close(file) }
            throw ArtifactError(.fileChanged, "\(entry.path.text): the file was replaced while the tree was read")
        }
        return file
    }

    /// Copies exactly `size` bytes of `file` into the archive; the file must then be at its end,
    /// with the size and time it had.
    private static func copy(
        _ file: Int32, size: UInt64, entry: TreeWalk.Entry, to writer: ZipWriter,
        buffer: UnsafeMutableRawBufferPointer
    ) throws(ArtifactError) {
        var info = stat()
        fstat(file, &info)
        let before = info.st_mtim
        var remaining = size
        while remaining > 0 {
            let wanted = Int(min(UInt64(buffer.count), remaining))
            let count = read(file, buffer.baseAddress, wanted)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                throw ArtifactError(.fileChanged, "\(entry.path.text): the file shrank while it was read")
            }
            do throws(ArchiveError) {
                try writer.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            } catch {
                throw ArtifactError(.fileSystem, "cannot add \(entry.path.text): \(error)")
            }
            remaining -= UInt64(count)
        }
        var extra: UInt8 = 0
        let more = read(file, &extra, 1)
        fstat(file, &info)
        guard more == 0, UInt64(info.st_size) == size, info.st_mtim.tv_sec == before.tv_sec,
            info.st_mtim.tv_nsec == before.tv_nsec
        else {
            throw ArtifactError(.fileChanged, "\(entry.path.text): the file changed while it was read")
        }
    }
}
