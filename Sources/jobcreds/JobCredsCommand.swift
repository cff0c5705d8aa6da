import ArgumentParser
import JobCreds

/// The `jobcreds` command line: wiring only.
@main
struct JobCredsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobcreds",
        abstract: "Serves a CodePipeline job's artifact credentials, and nothing else, to the build next to it.",
        version: Version.current,
        subcommands: [
            ServeCommand.self, WorkerCommand.self, CheckCommand.self, ProbeCommand.self, ExecCommand.self,
            CredentialProcessCommand.self, ArtifactsCommand.self,
        ])
}
