import Archive

#if canImport(Glibc)
    import Glibc
#endif

/// What `push` does with a symbolic link in the tree (`--symlinks`).
public enum SymlinkPolicy: String, Sendable, CaseIterable {
    /// Stored as a link, when its target is relative and stays inside the tree.
    case keep
    /// Replaced by the file or directory it points to.
    case follow
    /// Refused.
    case refuse
}

/// The entries of a tree to archive: walked through descriptors (`openat` with `O_NOFOLLOW`,
/// `fstatat` with `AT_SYMLINK_NOFOLLOW`), sorted by name, each name admitted by `EntryPath`.
///
/// Refused: a device, FIFO or socket (`SpecialFile`); a name that is not UTF-8 or holds a control
/// character or backslash (`UnsafeName` and its kin); with `keep`, a link whose target is
/// absolute, leaves the tree or leads through another link (`SymlinkEscapes`); with `refuse`,
/// any link (`SymlinkInTree`).
struct TreeWalk {
    /// One entry to archive.
    struct Entry {
        enum Kind {
            /// A regular file; `device` and `inode` are checked again when it is opened to be read.
            case file(size: UInt64, device: UInt64, inode: UInt64)
            case directory
            case symlink(target: String)
        }

        var path: EntryPath
        var kind: Kind
        var permissions: UInt32
        var modified: Int64
        /// Where to open it: the components, each opened without following a link except where
        /// `follow` said to.
        var followed: Bool
    }

    private(set) var entries: [Entry] = []
    private let policy: SymlinkPolicy
    private let owner: UInt32?

    /// Walks the directory at `root`, or takes the file at `root` as the one entry named `name`.
    static func walk(
        _ root: String, policy: SymlinkPolicy, owner: UInt32? = nil
    ) throws(ArtifactError) -> (TreeWalk, isFile: Bool) {
        var walk = TreeWalk(policy: policy, owner: owner)
        let descriptor = open(root, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let why = errno == ELOOP ? "it is a symbolic link; give what it points to" : FileSystem.reason()
            throw ArtifactError(.sourceUnusable, "cannot open \(root): \(why)")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw ArtifactError(.sourceUnusable, "cannot read \(root): \(FileSystem.reason())")
        }
        try walk.checkOwner(info, root)
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            try walk.directory(descriptor, at: EntryPath(components: []), depth: 0, followed: false)
            walk.entries.sort { $0.path < $1.path }
            return (walk, false)
        case S_IFREG:
            let name = FileSystem.split(root).name
            guard case .success(.entry(let path, _)) = EntryPath.parse(Array(name.utf8)) else {
                throw ArtifactError(.unsafeName, "\(displayName(name.utf8)): the file's name cannot be an entry")
            }
            walk.entries = [
                Entry(
                    path: path,
                    kind: .file(size: UInt64(info.st_size), device: UInt64(info.st_dev), inode: UInt64(info.st_ino)),
                    permissions: UInt32(info.st_mode) & 0o7777, modified: Int64(info.st_mtim.tv_sec), followed: false)
            ]
            return (walk, true)
        default:
            throw ArtifactError(.specialFile, "\(root) is not a directory or a regular file")
        }
    }

    private init(policy: SymlinkPolicy, owner: UInt32?) {
        self.policy = policy
        self.owner = owner
    }

    /// Refuses what is not `owner`'s.
    private func checkOwner(_ info: stat, _ path: String) throws(ArtifactError) {
        guard let owner, info.st_uid != owner else { return }
        throw ArtifactError(.sourceUnusable, "\(path) belongs to user \(info.st_uid), not to the build's user \(owner)")
    }

    private mutating func directory(
        _ descriptor: Int32, at path: EntryPath, depth: Int, followed: Bool
    ) throws(ArtifactError) {
        guard depth < EntryPath.maxDepth else {
            throw ArtifactError(.unsafeName, "\(path.text): the tree is over \(EntryPath.maxDepth) deep (a link loop?)")
        }
        for name in try Self.names(descriptor, at: path) {
            let full = path.components.isEmpty ? name : Array(path.text.utf8) + [UInt8(ascii: "/")] + name
            let parsed: EntryPath
            switch EntryPath.parse(full) {
            case .failure(let error): throw error
            case .success(.entry(let admitted, _)) where admitted.components.count == path.components.count + 1:
                parsed = admitted
            case .success:
                throw ArtifactError(.unsafeName, "\(displayName(full)): the name cannot be an entry")
            }
            let child = parsed
            var info = stat()
            guard fstatat(descriptor, child.leaf, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw ArtifactError(.fileChanged, "\(child.text): vanished while the tree was read")
            }
            try checkOwner(info, child.text)
            if info.st_mode & S_IFMT == S_IFLNK {
                switch policy {
                case .refuse:
                    throw ArtifactError(.symlinkInTree, "\(child.text): a symbolic link, and --symlinks refuse")
                case .keep:
                    entries.append(
                        Entry(
                            path: child, kind: .symlink(target: try Self.target(descriptor, child)), permissions: 0o777,
                            modified: Int64(info.st_mtim.tv_sec), followed: followed))
                    continue
                case .follow:
                    guard fstatat(descriptor, child.leaf, &info, 0) == 0 else {
                        throw ArtifactError(.sourceUnusable, "\(child.text): the link leads nowhere")
                    }
                    try checkOwner(info, child.text)
                    try add(descriptor, child, info, depth: depth, followed: true)
                    continue
                }
            }
            try add(descriptor, child, info, depth: depth, followed: followed)
        }
    }

    private mutating func add(
        _ parent: Int32, _ path: EntryPath, _ info: stat, depth: Int, followed: Bool
    ) throws(ArtifactError) {
        let permissions = UInt32(info.st_mode) & 0o7777
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            entries.append(
                Entry(
                    path: path,
                    kind: .file(size: UInt64(info.st_size), device: UInt64(info.st_dev), inode: UInt64(info.st_ino)),
                    permissions: permissions, modified: Int64(info.st_mtim.tv_sec), followed: followed))
        case S_IFDIR:
            entries.append(
                Entry(
                    path: path, kind: .directory, permissions: permissions, modified: Int64(info.st_mtim.tv_sec),
                    followed: followed))
            let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followed ? 0 : O_NOFOLLOW)
            let child = openat(parent, path.leaf, flags)
            guard child >= 0 else {
                throw ArtifactError(.sourceUnusable, "cannot open \(path.text): \(FileSystem.reason())")
            }
            defer { close(child) }
            try directory(child, at: path, depth: depth + 1, followed: followed)
        default:
            throw ArtifactError(.specialFile, "\(path.text): a device, FIFO or socket cannot go into an archive")
        }
    }

    /// The names in the open directory `descriptor`, as bytes, sorted.
    private static func names(_ descriptor: Int32, at path: EntryPath) throws(ArtifactError) -> [[UInt8]] {
        guard let names = Trees.names(in: descriptor) else {
            throw ArtifactError(.sourceUnusable, "cannot list \(path.text.isEmpty ? "the tree" : path.text)")
        }
        return names
    }

    /// The target of the link `path` in `parent`.
    private static func target(_ parent: Int32, _ path: EntryPath) throws(ArtifactError) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlinkat(parent, path.leaf, &buffer, 4096)
        let bytes = buffer.prefix(max(count, 0)).map { UInt8(bitPattern: $0) }
        guard count > 0, count < 4096, let text = String(validating: bytes, as: UTF8.self) else {
            throw ArtifactError(.symlinkEscapes, "\(path.text): the link's target cannot be read or is not UTF-8")
        }
        return text
    }

    /// Checks that every kept link resolves inside the tree, not through another link.
    func checkLinks() throws(ArtifactError) {
        var links: Set<EntryPath> = []
        for entry in entries { if case .symlink = entry.kind { links.insert(entry.path) } }
        for entry in entries {
            guard case .symlink(let target) = entry.kind else { continue }
            guard entry.path.resolving(Array(target.utf8), isLink: { links.contains($0) }) != nil else {
                throw ArtifactError(
                    .symlinkEscapes,
                    "\(entry.path.text) -> \(displayName(target.utf8)): the link leads out of the tree or through "
                        + "another link (--symlinks follow stores what it points to)")
            }
        }
    }
}
