#if canImport(Glibc)
    import Glibc
#endif

/// Whole trees, walked through descriptors opened `O_NOFOLLOW`: never a path string below the
/// root, so a link planted in the tree is never followed.
public enum Trees {
    /// Removes `path` and everything under it; each directory is made writable first (an
    /// extracted 0555 one).
    public static func remove(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            unlink(path)
            return
        }
        fchmod(descriptor, 0o700)
        walk(descriptor, directories: { child in fchmod(child, 0o700) }) { parent, name, isDirectory in
            unlinkat(parent, name, isDirectory ? AT_REMOVEDIR : 0)
        }
        close(descriptor)
        rmdir(path)
    }

    /// Gives `path` and everything under it (links themselves, not what they point to) to `uid`
    /// and `gid`.
    public static func give(_ path: String, uid: UInt32, gid: UInt32) -> Bool {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var ok = fchown(descriptor, uid, gid) == 0
        walk(descriptor, directories: { _ in }) { parent, name, _ in
            if fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 { ok = false }
        }
        return ok
    }

    /// The names in the open directory `descriptor` (not `.` and `..`) as the bytes they are (a
    /// name need not be UTF-8), sorted by them; nil when it cannot be listed.
    public static func names(in descriptor: Int32) -> [[UInt8]]? {
        let copy = dup(descriptor)
        guard copy >= 0 else { return nil }
        guard let directory = fdopendir(copy) else {
            close(copy)
            return nil
        }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let found = readdir(directory) {
            let name = withUnsafeBytes(of: found.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [46] && name != [46, 46] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Calls `entry` for everything in the open directory `descriptor`, children before their
    /// directory; `directories` for each directory opened, before its entries.
    private static func walk(
        _ descriptor: Int32, directories: (Int32) -> Void, entry: (Int32, [CChar], Bool) -> Void
    ) {
        for bytes in names(in: descriptor) ?? [] {
            let name = bytes.map { CChar(bitPattern: $0) } + [0]
            let child = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child >= 0 {
                directories(child)
                walk(child, directories: directories, entry: entry)
                close(child)
                entry(descriptor, name, true)
            } else {
                entry(descriptor, name, false)
            }
        }
    }
}
