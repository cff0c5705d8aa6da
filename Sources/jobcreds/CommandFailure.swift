import ArgumentParser
import JobCreds

/// How a command ends on a `JobCredsError`: its message written where that command reports, and
/// the exit status of its code. The one place exit statuses are decided.
struct CommandFailure {
    /// Where the message goes.
    enum Output {
        /// Standard error, after the command's name (`serve`, `probe`).
        case standardError(command: String)
        /// Standard output, as the report's last line (`check`, which reports everything there).
        case standardOutput
    }

    let output: Output

    static let serve = CommandFailure(output: .standardError(command: "serve"))
    static let probe = CommandFailure(output: .standardError(command: "probe"))
    static let check = CommandFailure(output: .standardOutput)
    static let exec = CommandFailure(output: .standardError(command: "exec"))
    static let credentialProcess = CommandFailure(output: .standardError(command: "credential-process"))
    static let worker = CommandFailure(output: .standardError(command: "worker"))

    /// Writes `error`'s message; returns the exit to throw.
    func exit(_ error: JobCredsError) -> ExitCode {
        switch output {
        // A message may quote what came from elsewhere (an upstream error, a file's path).
        case .standardError(let command):
            StandardError.writeLine("jobcreds \(command): \(TerminalText.escaped(error.message))")
        case .standardOutput: print(TerminalText.escaped(error.message))
        }
        return ExitCode(Self.status(error.code))
    }

    /// The exit status of `code`: `0` is success, `64` a usage error (sysexits' `EX_USAGE`), the
    /// small numbers are what `check --help` lists, 126 and 127 what a shell answers for a command
    /// it cannot run or cannot find.
    static func status(_ code: JobCredsError.Code) -> Int32 {
        switch code {
        case .usage: 64
        case .noCredentials: 3
        case .identity: 4
        case .accessDenied: 5
        case .jobNotFound: 6
        case .unavailable: 7
        case .failed: 1
        case .commandNotExecutable: 126
        case .commandNotFound: 127
        }
    }
}
