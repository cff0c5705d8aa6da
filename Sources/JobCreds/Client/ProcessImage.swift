import Glibc

/// Replaces this process with another program (`execve`): its exit status and signals are the
/// program's own, and nothing of jobcreds stays running.
public enum ProcessImage {
    /// Runs `path` with `arguments` (the first is its name) and `environment`.
    /// - Returns: never, unless `execve` fails.
    /// - Throws: `JobCredsError` naming the program and the failure.
    public static func replace(
        with path: String, arguments: [String], environment: [String: String]
    ) throws(JobCredsError) -> Never {
        // Swift's worker threads block most signals, and a blocked mask survives execve: the
        // command must start with none blocked, or SIGTERM would never reach it.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        pthread_sigmask(SIG_SETMASK, &unblocked, nil)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, argv, envp)
        let reason = String(cString: strerror(errno))
        for pointer in argv + envp { free(pointer) }
        throw JobCredsError(.commandNotExecutable, "cannot run \(path): \(reason)")
    }
}
