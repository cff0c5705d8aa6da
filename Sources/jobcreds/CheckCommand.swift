import ArgumentParser
import CurlHTTP
import JobCreds
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds check`: the first thing an operator runs when wiring a worker up.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Resolve the worker identity, call CodePipeline once, and say whether the job can be served.",
        discussion: """
            Prints the identity provider and access key id (never the secret), the job's artifact \
            locations and the artifact access key id. Exit status: 0 servable; 3 no credentials; \
            4 identity failed; 5 access denied; 6 job not found or ended; 7 CodePipeline or network \
            unavailable; 64 bad option; 1 anything else.
            """)

    @OptionGroup var upstream: UpstreamOptions
    @OptionGroup(title: "Logging") var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: UpstreamSettings
        let logger: Logger
        do {
            logger = try logging.bootstrap(environment: environment)
            settings = try upstream.settings(environment: environment)
        } catch let error as JobCredsError {
            throw CommandFailure.check.exit(error)
        }
        let transport = CurlTransport(
            settings: .init(
                caBundle: upstream.caBundlePath(environment: environment), userAgent: "jobcreds/\(Version.current)"))
        do {
            try await JobCheck.run(
                settings, environment: environment, transport: transport, logger: logger, print: { Swift.print($0) })
        } catch {
            throw CommandFailure.check.exit(error)
        }
    }
}
