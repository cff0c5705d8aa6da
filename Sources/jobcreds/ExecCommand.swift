import ArgumentParser
import CurlHTTP
import JobCreds

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds exec`: the build container's entry point, for any image.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a build command so that every AWS SDK in the image finds the sidecar, old ones included.",
        discussion: """
            Reads AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, sets \
            AWS_CONTAINER_AUTHORIZATION_TOKEN to the file's token (SDKs from before the file variable read only \
            that), removes the variables that would make an SDK pick another identity first \
            (\(BuildEnvironment.removed.joined(separator: ", "))), optionally waits for the sidecar's /readyz, \
            then replaces itself with COMMAND: its exit status and signals are the command's own. The token in \
            the environment does not follow a rotation of the file (SIGHUP). Exit status before COMMAND runs: 64 a \
            missing or bad variable or token file, 7 not ready in time, 126 not executable, 127 not found.
            """)

    @Option(
        help: ArgumentHelp(
            "Wait until the sidecar's /readyz answers 200, at most this long (e.g. 30s; default: do not wait).",
            valueName: "duration"))
    var waitReady: String?

    @Argument(
        parsing: .captureForPassthrough,
        help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    /// `--help` and `-h` before `--` are the help, as for every other command; after `--`,
    /// everything is the command's.
    func validate() throws {
        if let first = command.first, first == "--help" || first == "-h" {
            throw CleanExit.helpRequest(self)
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let endpoint = try ContainerEndpoint(environment: environment)
            let arguments = command.first == "--" ? Array(command.dropFirst()) : command
            let program = try CommandPath.resolve(arguments.first ?? "", searchPath: environment["PATH"])
            if let waitReady {
                let limit = try DurationText.parse(waitReady, option: "--wait-ready")
                let transport = CurlTransport(
                    settings: .init(userAgent: "jobcreds-exec/\(Version.current)", useProxy: false))
                try await Readiness.wait(for: endpoint, within: limit, transport: transport)
            }
            try ProcessImage.replace(
                with: program, arguments: arguments, environment: BuildEnvironment.prepared(environment, for: endpoint))
        } catch {
            throw CommandFailure.exec.exit(error)
        }
    }
}
