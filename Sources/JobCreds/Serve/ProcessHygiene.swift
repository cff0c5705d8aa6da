internal import CProcessShims
import Glibc

/// What the sidecar does to its own process before it holds a secret: no core dumps (a crash
/// must not write credentials to disk) and not dumpable (other processes of the same user cannot
/// ptrace it or read its memory through /proc).
public enum ProcessHygiene {
    /// Applies `RLIMIT_CORE` 0 and `PR_SET_DUMPABLE` 0.
    /// - Throws: `JobCredsError` naming the call that failed.
    public static func apply() throws(JobCredsError) {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        guard setrlimit(Int32(RLIMIT_CORE.rawValue), &none) == 0 else {
            throw JobCredsError(.failed, "setrlimit(RLIMIT_CORE, 0) failed: \(String(cString: strerror(errno)))")
        }
        guard CProcessShims_set_dumpable(0) == 0 else {
            throw JobCredsError(.failed, "prctl(PR_SET_DUMPABLE, 0) failed: \(String(cString: strerror(errno)))")
        }
    }
}
