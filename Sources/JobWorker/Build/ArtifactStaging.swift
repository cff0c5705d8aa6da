import Artifacts
import CodePipeline
import CryptoPrimitives
import Glibc
import HTTPTransport
import JobCreds

/// `--artifacts stage`: the worker moves the job's artifacts itself, so the build needs no token
/// and no credentials. Before the build, every input artifact is pulled into
/// `CODEPIPELINE_INPUT_DIR/NAME` (given to the build's user); after a build that succeeded, every
/// `CODEPIPELINE_OUTPUT_DIR/NAME` is pushed, and success is reported only once each is stored
/// (Jenkins #40: a success reported before the upload broke the next stage).
///
/// Both go through the job's own sidecar with a token of the worker's (scopes `download,upload`),
/// so every URL handed out is in the audit log as any other.
struct ArtifactStaging {
    /// The workspace's folders for the artifacts.
    static let inputFolder = "input"
    static let outputFolder = "output"

    let details: JobDetails
    let workspace: String
    let user: (uid: UInt32, gid: UInt32)?
    let transfer: (String) -> ObjectTransfer
    let audit: AuditLog
    let temporaryDirectory: String
    /// What a failure message or a name from the build's tree passes through before it leaves
    /// (a build with credentials could name a file after them).
    let scrubber: Scrubber

    var inputDirectory: String { workspace + "/" + Self.inputFolder }
    var outputDirectory: String { workspace + "/" + Self.outputFolder }

    /// The variables the build is told where the artifacts are by.
    var environment: [String: String] {
        var variables = [
            "CODEPIPELINE_INPUT_DIR": inputDirectory, "CODEPIPELINE_OUTPUT_DIR": outputDirectory,
        ]
        if let first = details.inputArtifacts.first {
            variables["CODEPIPELINE_PRIMARY_INPUT_DIR"] = inputDirectory + "/" + first.name
        }
        return variables
    }

    /// Makes the two folders and pulls every input; the outcome that ends the job when one fails.
    func pullInputs() async -> BuildOutcome? {
        for folder in [inputDirectory, outputDirectory] {
            guard mkdir(folder, 0o700) == 0 else {
                return .systemUnavailable("cannot make \(folder): \(String(cString: strerror(errno)))")
            }
        }
        for artifact in details.inputArtifacts {
            let pull = ArtifactPull(
                artifact: artifact.name, destination: inputDirectory + "/" + artifact.name, format: .auto,
                limits: ExtractionLimits())
            do throws(ArtifactError) {
                let summary = try await pull.run(transfer(artifact.name))
                audit.lifecycle(
                    .artifactPulled,
                    [
                        ("artifact", artifact.name), ("bucket", summary.object.bucket), ("key", summary.object.key),
                        ("etag", summary.object.etag),
                    ],
                    numbers: [("bytes", Int(summary.object.bytes)), ("entries", summary.extraction.entries)])
            } catch {
                return failed(artifact.name, .pull, error.code.rawValue, Self.failureType(error, .pull), error.message)
            }
        }
        if let user {
            for folder in [inputDirectory, outputDirectory] where !Trees.give(folder, uid: user.uid, gid: user.gid) {
                return .systemUnavailable("cannot give \(folder) to the build's user")
            }
        }
        return nil
    }

    /// Pushes every output; the outcome that ends the job when one is missing or fails.
    func pushOutputs() async -> BuildOutcome? {
        let expected = Set(details.outputArtifacts.map(\.name))
        for artifact in details.outputArtifacts {
            let source = outputDirectory + "/" + artifact.name
            var info = stat()
            guard lstat(source, &info) == 0 else {
                return failed(
                    artifact.name, .push, "MissingOutput", .configurationError,
                    "the build left no \(Self.outputFolder)/\(artifact.name) for the output artifact \(artifact.name)")
            }
            let push = ArtifactPush(
                artifact: artifact.name, source: source, settings: PackingSettings(owner: user?.uid),
                multipartThreshold: 64 << 20, temporaryDirectory: temporaryDirectory)
            do throws(ArtifactError) {
                let summary = try await push.run(transfer(artifact.name))
                audit.lifecycle(
                    .artifactPushed,
                    [
                        ("artifact", artifact.name), ("bucket", summary.object.bucket), ("key", summary.object.key),
                        ("sha256", Hex.encode(summary.sha256)),
                    ], numbers: [("bytes", Int(summary.bytes)), ("entries", summary.entries)])
            } catch {
                return failed(artifact.name, .push, error.code.rawValue, Self.failureType(error, .push), error.message)
            }
        }
        // Anything else the build left there is not an artifact of the job: said, not failed.
        for name in Self.names(in: outputDirectory) where !expected.contains(name) {
            audit.lifecycle(
                .artifactFailed,
                [
                    ("artifact", scrubber.scrub(name)), ("direction", "push"), ("code", "NotAnOutput"),
                    ("failure_type", nil),
                ])
        }
        return nil
    }

    enum Direction: String {
        case pull
        case push
    }

    private func failed(
        _ artifact: String, _ direction: Direction, _ code: String, _ type: FailureType, _ message: String
    ) -> BuildOutcome {
        audit.lifecycle(
            .artifactFailed,
            [
                ("artifact", artifact), ("direction", direction.rawValue), ("code", code),
                ("failure_type", type.rawValue),
            ])
        let verb = direction == .pull ? "pulled" : "pushed"
        return .artifactFailed(
            type, scrubber.scrub("the artifact \(artifact) cannot be \(verb): \(code): \(message)"))
    }

    /// The failure type CodePipeline is told: a missing input object is `RevisionUnavailable`, a
    /// refusal by S3 or KMS `PermissionError`, a refused archive or tree `ConfigurationError`,
    /// the rest (the network, the disk, the sidecar) `SystemUnavailable`.
    static func failureType(_ error: ArtifactError, _ direction: Direction) -> FailureType {
        switch error.code {
        case .objectNotFound: direction == .pull ? .revisionUnavailable : .systemUnavailable
        case .accessDenied, .uploadNotEncrypted: .permissionError
        case .sourceChanged: .revisionOutOfSync
        default:
            switch error.code.category {
            case .refused, .limit, .usage: .configurationError
            case .fileSystem: error.code == .sourceUnusable ? .configurationError : .systemUnavailable
            case .sidecar, .transfer: .systemUnavailable
            }
        }
    }

    /// The names in `directory` (the build's: never followed if it is a link), as they may be shown.
    private static func names(in directory: String) -> [String] {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        return (Trees.names(in: descriptor) ?? []).map { String(decoding: $0, as: UTF8.self) }
    }
}
