import Archive

#if canImport(Glibc)
    import Glibc
#endif

/// A private directory beside the destination that an archive is extracted into, through
/// descriptors only: every component opened with `openat(…, O_NOFOLLOW)` from the root's
/// descriptor, files created `O_EXCL`, nothing ever reached by a path string. `commit` renames it
/// to the destination; `discard` removes it, so a refused archive leaves nothing.
///
/// Thread-safety: one thread at a time; owns its descriptors.
final class ExtractionTree {
    /// The temporary directory's path.
    let path: String
    private let root: Int32
    /// The last directory opened, kept: entries come grouped by directory.
    private var cached: (path: EntryPath, descriptor: Int32)?

    /// Makes `.jobcreds-pull-XXXXXX` (0700) in `parent`.
    init(in parent: String) throws(ArtifactError) {
        var template = Array((parent + "/.jobcreds-pull-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else {
            throw ArtifactError(.fileSystem, "cannot make a directory in \(parent): \(FileSystem.reason())")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        root = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw ArtifactError(.fileSystem, "cannot open \(path): \(FileSystem.reason())") }
    }

    deinit {
        if let cached { close(cached.descriptor) }
        close(root)
    }

    /// Makes `directories` (parents first), each 0700 until `finishDirectories`.
    func makeDirectories(_ directories: [EntryPath]) throws(ArtifactError) {
        for directory in directories {
            let parent = try descriptor(of: directory.parent)
            guard mkdirat(parent, directory.leaf, 0o700) == 0 else {
                throw ArtifactError(.fileSystem, "cannot make \(directory.text): \(FileSystem.reason())")
            }
        }
    }

    /// Creates the file at `path` (`O_EXCL`, 0600) and returns its descriptor, the caller's to close.
    func createFile(_ path: EntryPath) throws(ArtifactError) -> Int32 {
        let parent = try descriptor(of: path.parent)
        let file = openat(parent, path.leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else {
            let code: ArtifactError.Code = errno == EEXIST ? .duplicateEntry : .fileSystem
            throw ArtifactError(code, "cannot create \(path.text): \(FileSystem.reason())")
        }
        return file
    }

    /// Creates the link at `path` to `target`, with `modified` as its time.
    func createSymlink(_ path: EntryPath, target: String, modified: Int64) throws(ArtifactError) {
        let parent = try descriptor(of: path.parent)
        guard symlinkat(target, parent, path.leaf) == 0 else {
            let code: ArtifactError.Code = errno == EEXIST ? .duplicateEntry : .fileSystem
            throw ArtifactError(code, "cannot create the link \(path.text): \(FileSystem.reason())")
        }
        var times = [timespec(tv_sec: Int(modified), tv_nsec: 0), timespec(tv_sec: Int(modified), tv_nsec: 0)]
        _ = utimensat(parent, path.leaf, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// Gives every directory its mode and time, deepest first (a 0555 directory would block its
    /// own children), and the root 0755; through descriptors opened `O_NOFOLLOW`.
    func finishDirectories(_ plan: ExtractionPlan) throws(ArtifactError) {
        if let cached {
            close(cached.descriptor)
            self.cached = nil
        }
        for directory in plan.directories.reversed() {
            let mode = plan.directoryModes[directory] ?? (permissions: 0o755, modified: nil)
            let descriptor = try open(directory)
            defer { close(descriptor) }
            if let modified = mode.modified {
                var times = [timespec(tv_sec: Int(modified), tv_nsec: 0), timespec(tv_sec: Int(modified), tv_nsec: 0)]
                _ = futimens(descriptor, &times)
            }
            guard fchmod(descriptor, mode_t(mode.permissions)) == 0 else {
                throw ArtifactError(.fileSystem, "cannot set the mode of \(directory.text): \(FileSystem.reason())")
            }
        }
        guard fchmod(root, 0o755) == 0 else {
            throw ArtifactError(.fileSystem, "cannot set the mode of \(path): \(FileSystem.reason())")
        }
    }

    /// Renames the tree to `destination`, which must be absent or an empty directory.
    func commit(to destination: String) throws(ArtifactError) {
        guard rename(path, destination) == 0 else {
            let code: ArtifactError.Code = errno == ENOTEMPTY || errno == EEXIST ? .destinationExists : .fileSystem
            throw ArtifactError(code, "cannot move the extracted tree to \(destination): \(FileSystem.reason())")
        }
    }

    /// Removes the tree and everything in it.
    func discard() {
        Trees.remove(path)
    }

    /// The descriptor of the directory at `path`, kept open for the next call.
    private func descriptor(of path: EntryPath) throws(ArtifactError) -> Int32 {
        if path.components.isEmpty { return root }
        if let cached, cached.path == path { return cached.descriptor }
        let opened = try open(path)
        if let cached { close(cached.descriptor) }
        cached = (path, opened)
        return opened
    }

    /// Opens the directory at `path` component by component, never following a link.
    private func open(_ path: EntryPath) throws(ArtifactError) -> Int32 {
        var current = dup(root)
        for component in path.components {
            let next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            guard next >= 0 else {
                throw ArtifactError(.fileSystem, "cannot open the directory \(path.text): \(FileSystem.reason())")
            }
            current = next
        }
        return current
    }
}
