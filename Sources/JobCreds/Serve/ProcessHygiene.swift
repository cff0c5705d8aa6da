internal import CProcessShims
import Glibc

/// What the sidecar does to its own process before it holds a secret: no core dumps (a crash
/// must not write credentials to disk) and not dumpable (other processes of the same user cannot
/// ptrace it or read its memory through /proc). Not dumpable is first set before `main`, by a
/// constructor in CProcessShims (the worker's keys are in the environment from exec on); `apply`
/// sets it again with the core limit, and fails loudly if it cannot.
public enum ProcessHygiene {
    /// The variables whose values are secrets of the worker's own identity.
    public static let secretVariables = [
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ]

    /// Overwrites the values of `secretVariables` in the environment block the process started
    /// with, which /proc/PID/environ reads (`unsetenv` leaves it as it was). Call once they have
    /// been read: the process's own environment shows them empty afterwards.
    /// - Returns: how many values were overwritten.
    @discardableResult
    public static func scrubSecretsFromEnvironment() -> Int {
        secretVariables.reduce(0) { count, name in count + CProcessShims_scrub_environment(name) }
    }

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
