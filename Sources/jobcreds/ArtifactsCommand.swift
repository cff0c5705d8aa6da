import ArgumentParser
import Artifacts
import CurlHTTP
import JobCreds

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds artifacts pull|push`: moves one artifact through the sidecar's presigned URLs.
struct ArtifactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifacts",
        abstract: "Pull an input artifact into a directory, or push a directory as an output artifact.",
        discussion: """
            Both ask the sidecar at JOBCREDS_URL with the token in JOBCREDS_TOKEN_FILE (scope download for pull, \
            upload for push) and hold no AWS credentials. Exit status: 0 done; 3 the sidecar; 4 S3 or the network; \
            5 the archive or tree refused; 6 the local filesystem; 7 a limit; 64 a bad option.
            """,
        subcommands: [PullCommand.self, PushCommand.self])

    /// The sidecar and S3 clients, from the environment.
    static func transfer(artifact: String, caBundle: String?) throws(ArtifactError) -> ObjectTransfer {
        let environment = ProcessInfo.processInfo.environment
        guard let base = environment["JOBCREDS_URL"], !base.isEmpty,
            base.hasPrefix("http://") || base.hasPrefix("https://")
        else {
            throw ArtifactError(.usage, "JOBCREDS_URL is not set to the sidecar's http://127.0.0.1:PORT")
        }
        guard let tokenFile = environment["JOBCREDS_TOKEN_FILE"], !tokenFile.isEmpty else {
            throw ArtifactError(.usage, "JOBCREDS_TOKEN_FILE is not set to the sidecar's token file")
        }
        let userAgent = "jobcreds-artifacts/\(Version.current)"
        let sidecar = SidecarClient(
            base: base, tokenFile: tokenFile,
            transport: CurlTransport(settings: .init(maxResponseBytes: 64 << 10, userAgent: userAgent, useProxy: false))
        )
        let s3 = CurlTransport(
            settings: .init(
                caBundle: EnvironmentOptions(environment).caBundle(flag: caBundle), maxResponseBytes: 1 << 20,
                userAgent: userAgent))
        return ObjectTransfer(artifact: artifact, sidecar: sidecar, s3: s3)
    }

    /// Prints `error` and returns its exit status.
    static func exit(_ error: ArtifactError, command: String) -> ExitCode {
        StandardError.writeLine("jobcreds artifacts \(command): \(TerminalText.escaped(error.description))")
        return ExitCode(error.code.category.rawValue)
    }

    static func size(_ text: String, option: String) throws(ArtifactError) -> UInt64 {
        guard let bytes = ByteSize.parse(text) else {
            throw ArtifactError(.usage, "\(option) takes bytes or a number with K, M, G or T (64M is 64 MiB)")
        }
        return bytes
    }
}

extension ArtifactsCommand {
    struct PullCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pull",
            abstract: "Download input artifact NAME and extract it into DIR (absent or empty), or leave nothing.",
            discussion: """
                Prints one JSON line: artifact, bucket, key, etag, bytes, format, entries, files, dirs, symlinks, \
                extracted_bytes, special_bits_dropped, seconds.
                """)

        @Argument(help: "The input artifact's name.") var name: String
        @Argument(help: "The directory to create (absent, or an empty directory).") var dir: String
        @Option(help: "auto (by magic bytes), zip, tar, tgz or raw (the object as one file, DIR/NAME).")
        var format: String = "auto"
        @Option(help: "The most the entries may extract to (bytes, or K/M/G/T).") var maxSize: String = "50G"
        @Option(help: "The most entries.") var maxEntries: Int = 1_000_000
        @Option(help: "The largest object downloaded.") var maxArchive: String = "20G"
        @Option(help: "Extra CAs to trust for S3 (env JOBCREDS_CA_BUNDLE, AWS_CA_BUNDLE).") var caBundle: String?

        func run() async throws {
            do throws(ArtifactError) {
                guard let format = ArtifactFormat(rawValue: format) else {
                    throw ArtifactError(.usage, "--format is auto, zip, tar, tgz or raw")
                }
                guard maxEntries > 0 else { throw ArtifactError(.usage, "--max-entries is a positive number") }
                let limits = ExtractionLimits(
                    maxSize: try ArtifactsCommand.size(maxSize, option: "--max-size"), maxEntries: maxEntries,
                    maxArchive: try ArtifactsCommand.size(maxArchive, option: "--max-archive"))
                let pull = ArtifactPull(artifact: name, destination: dir, format: format, limits: limits)
                print(try await pull.run(try ArtifactsCommand.transfer(artifact: name, caBundle: caBundle)).line)
            } catch {
                throw ArtifactsCommand.exit(error, command: "pull")
            }
        }
    }

    struct PushCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push",
            abstract: "Zip DIR's contents (or FILE as the one entry) and upload it as output artifact NAME.",
            discussion: """
                Exits 0 only once S3 has answered that the whole object is stored (with aws:kms and the job's key \
                when the job has one). Prints one JSON line: artifact, bucket, key, bytes, sha256, parts, entries, \
                kms_key_id, seconds. SOURCE_DATE_EPOCH caps every entry's time, so the same tree gives the same bytes.
                """)

        @Argument(help: "The output artifact's name.") var name: String
        @Argument(help: "The directory whose contents, or the file, to upload.") var source: String
        @Option(help: "keep (links inside the tree), follow (store what they point to) or refuse.")
        var symlinks: String = "keep"
        @Option(help: "The deflate level, 0 (store) to 9.") var level: Int = 6
        @Option(help: "Above this size an upload goes in parts.") var multipartThreshold: String = "64M"
        @Option(help: "The size of each part, 5M to 5G (default 16M, more if 10,000 would not hold it).")
        var partSize: String?
        @Option(help: "Extra CAs to trust for S3 (env JOBCREDS_CA_BUNDLE, AWS_CA_BUNDLE).") var caBundle: String?

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            do throws(ArtifactError) {
                guard let policy = SymlinkPolicy(rawValue: symlinks) else {
                    throw ArtifactError(.usage, "--symlinks is keep, follow or refuse")
                }
                guard (0...9).contains(level) else { throw ArtifactError(.usage, "--level is 0 to 9") }
                var epoch: Int64?
                if let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty {
                    guard let value = Int64(text), value >= 315_532_800 else {
                        throw ArtifactError(
                            .usage, "SOURCE_DATE_EPOCH is seconds since 1970, from 1980 on (zip's epoch)")
                    }
                    epoch = value
                }
                let push = ArtifactPush(
                    artifact: name, source: source,
                    settings: PackingSettings(symlinks: policy, level: level, sourceDateEpoch: epoch),
                    multipartThreshold: try ArtifactsCommand.size(multipartThreshold, option: "--multipart-threshold"),
                    partSize: try partSize.map { (text) throws(ArtifactError) in
                        let bytes = try ArtifactsCommand.size(text, option: "--part-size")
                        guard ((5 << 20)...(5 << 30)).contains(bytes) else {
                            throw ArtifactError(.usage, "--part-size is 5M to 5G (S3's part sizes)")
                        }
                        return bytes
                    },
                    temporaryDirectory: environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp")
                print(try await push.run(try ArtifactsCommand.transfer(artifact: name, caBundle: caBundle)).line)
            } catch {
                throw ArtifactsCommand.exit(error, command: "push")
            }
        }
    }
}
