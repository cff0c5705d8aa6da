/// Why a jobcreds command could not do its work. Each code has its own exit status, so scripts
/// can tell a wiring mistake from an ended job.
public struct JobCredsError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, with its exit status.
    public enum Code: Int32, Sendable {
        /// A flag, variable or file is wrong.
        case usage = 64
        /// No AWS credentials were found for the worker.
        case noCredentials = 3
        /// The worker's credentials exist but could not be used (misconfigured provider, STS refused).
        case identity = 4
        /// CodePipeline refused the worker identity.
        case accessDenied = 5
        /// The job does not exist or has ended.
        case jobNotFound = 6
        /// CodePipeline or the network failed.
        case unavailable = 7
        /// Anything else.
        case failed = 1
    }

    /// The kind of failure.
    public var code: Code
    /// A message naming the fix.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
