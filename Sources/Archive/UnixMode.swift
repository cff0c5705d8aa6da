/// The file-type bits of a Unix mode (`st_mode`, a zip entry's external attributes, a tar header),
/// spelled out: the Glibc and libarchive headers both define the macros.
public enum UnixMode {
    /// `S_IFMT`.
    public static let typeMask: UInt32 = 0o170_000
    /// `S_IFREG`.
    public static let regular: UInt32 = 0o100_000
    /// `S_IFDIR`.
    public static let directory: UInt32 = 0o040_000
    /// `S_IFLNK`.
    public static let symlink: UInt32 = 0o120_000
    /// The setuid, setgid and sticky bits.
    public static let specialBits: UInt32 = 0o7000
}
