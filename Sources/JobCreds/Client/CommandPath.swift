import Glibc

/// Finds the program a command names, as `execvp` would: a name with a `/` as it is, any other in
/// the directories of `PATH`, in order.
public enum CommandPath {
    /// The path of an executable regular file for `name`.
    /// - Throws: `JobCredsError.commandNotFound` or `.commandNotExecutable`, naming the fix.
    public static func resolve(_ name: String, searchPath: String?) throws(JobCredsError) -> String {
        guard !name.isEmpty else {
            throw JobCredsError(.usage, "missing COMMAND: jobcreds exec [--wait-ready 30s] -- COMMAND [ARG...]")
        }
        if name.contains("/") {
            guard isRegularFile(name) else {
                throw JobCredsError(.commandNotFound, "\(name): no such file")
            }
            guard access(name, X_OK) == 0 else {
                throw JobCredsError(.commandNotExecutable, "\(name) is not executable: chmod +x it")
            }
            return name
        }
        let directories = (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(
            separator: ":", omittingEmptySubsequences: false)
        var notExecutable: String?
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            guard isRegularFile(candidate) else { continue }
            if access(candidate, X_OK) == 0 { return candidate }
            notExecutable = notExecutable ?? candidate
        }
        if let notExecutable {
            throw JobCredsError(.commandNotExecutable, "\(notExecutable) is not executable: chmod +x it")
        }
        throw JobCredsError(.commandNotFound, "\(name): command not found in PATH (\(searchPath ?? "unset"))")
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }
}
