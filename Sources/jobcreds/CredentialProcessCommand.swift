import ArgumentParser
import CurlHTTP
import JobCreds

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds credential-process`: the sidecar's credentials for tools configured through the
/// shared config file (`credential_process = /path/to/jobcreds credential-process`).
struct CredentialProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential-process",
        abstract: "Print the sidecar's credentials as a credential_process program does, for config-file clients.",
        discussion: """
            Reads AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, asks the sidecar \
            and prints {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} on stdout. \
            Errors go to stderr with a non-zero exit (64 a missing or bad variable or token file, 7 the sidecar \
            unreachable or refusing), and nothing to stdout.
            """)

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let endpoint = try ContainerEndpoint(environment: environment)
            let transport = CurlTransport(
                settings: .init(
                    userAgent: "jobcreds-credential-process/\(Version.current)",
                    useProxy: endpoint.url.scheme == "https"))
            print(try await CredentialProcess.document(for: endpoint, transport: transport))
        } catch {
            throw CommandFailure.credentialProcess.exit(error)
        }
    }
}
