/// The jobcreds version: in `--version`, the `User-Agent`, the audit log's `start` line and
/// `jobcreds_build_info`.
public enum Version {
    /// `0.1.0`.
    public static let current = "0.1.0"
}
