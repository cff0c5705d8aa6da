/// Why a jobcreds command could not do its work. The `jobcreds` executable gives each code its
/// own exit status, so scripts can tell a wiring mistake from an ended job.
public struct JobCredsError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, CaseIterable {
        /// A flag, variable or file is wrong.
        case usage
        /// No AWS credentials were found for the worker.
        case noCredentials
        /// The worker's credentials exist but could not be used (misconfigured provider, STS refused).
        case identity
        /// CodePipeline refused the worker identity.
        case accessDenied
        /// The job does not exist or has ended.
        case jobNotFound
        /// CodePipeline, the sidecar or the network failed.
        case unavailable
        /// `exec`: the command is not in `PATH`.
        case commandNotFound
        /// `exec`: the command is there but cannot be run.
        case commandNotExecutable
        /// Anything else.
        case failed
    }

    /// The kind of failure.
    public var code: Code
    /// A message naming the fix; never a secret.
    public var message: String
    /// The error beneath this one, if any.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
