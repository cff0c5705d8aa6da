import ArgumentParser
import CodePipeline
import CurlHTTP
import Glibc
import JobCreds
import JobWorker

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds worker`: the job worker for one action type.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Take an action type's CodePipeline jobs and run each build beside a sidecar of its own.",
        discussion: """
            Polls for jobs of the action type while a slot is free, acknowledges each at once, runs COMMAND for \
            it in a workspace of its own with a clean environment (the job's sidecar as the only way to the \
            artifacts), and reports the result: exit 0 a success, anything else a failure. Every option can also \
            be set as JOBCREDS_WORKER_<OPTION> (e.g. JOBCREDS_WORKER_PROVIDER); the flag wins. SIGTERM or SIGINT \
            stops polling and lets running builds finish for up to --drain-timeout; a second signal stops them \
            at once (and the retries of a result: the journal keeps it for the next start). Exit status: 0 \
            stopped with every result reported (--once: the job succeeded), 1 (--once) the job failed, 64 a \
            bad option, 75 stopped with a result not yet sent.
            """)

    @Option(help: "The action type's provider (required; env JOBCREDS_WORKER_PROVIDER).")
    var provider: String?

    @Option(help: "The action type's category (env JOBCREDS_WORKER_CATEGORY; default Build).")
    var category: String?

    @Option(help: "The action type's owner (env JOBCREDS_WORKER_OWNER; default Custom, ThirdParty with --third-party).")
    var owner: String?

    @Option(help: "The action type's version (env JOBCREDS_WORKER_ACTION_VERSION; default 1).")
    var actionVersion: String?

    @Option(
        help: ArgumentHelp(
            "Poll only for jobs whose queryable property has this value (env JOBCREDS_WORKER_QUERY).",
            valueName: "name=value"))
    var query: String?

    @Option(help: "Builds at once (env JOBCREDS_WORKER_CONCURRENCY; default 1).")
    var concurrency: Int?

    @Option(help: "The wait after an empty poll, ±20 % (env JOBCREDS_WORKER_POLL_INTERVAL; default 5s).")
    var pollInterval: String?

    @Option(help: "The longest a build may run (env JOBCREDS_WORKER_BUILD_TIMEOUT; default 23h).")
    var buildTimeout: String?

    @Option(help: "How long running builds may go on after SIGTERM (env JOBCREDS_WORKER_DRAIN_TIMEOUT; default 10m).")
    var drainTimeout: String?

    @Option(help: "Where each job's workspace is made (env JOBCREDS_WORKER_WORK_DIR; default /var/lib/jobcreds/work).")
    var workDir: String?

    @Option(
        help: "Where the journal and build logs live (env JOBCREDS_WORKER_STATE_DIR; default /var/lib/jobcreds/state).")
    var stateDir: String?

    @Option(help: "This worker's name (env JOBCREDS_WORKER_WORKER_ID; default the host name).")
    var workerId: String?

    @Option(
        help: """
            Who moves the artifacts: stage (the worker: inputs pulled into CODEPIPELINE_INPUT_DIR/NAME before the \
            build, each CODEPIPELINE_OUTPUT_DIR/NAME pushed after a success) or none (the build) (env \
            JOBCREDS_WORKER_ARTIFACTS; default stage).
            """)
    var artifacts: String?

    @Option(
        help: """
            What the build gets: credentials, presign or none (env JOBCREDS_WORKER_BUILD_ACCESS; default none with \
            --artifacts stage, credentials with --artifacts none).
            """)
    var buildAccess: String?

    @Option(help: "Run every build as this user (env JOBCREDS_WORKER_BUILD_USER).")
    var buildUser: String?

    @Option(
        help: ArgumentHelp(
            "Run each build as a uid of this range no other running build has (env JOBCREDS_WORKER_BUILD_UID_RANGE).",
            valueName: "first-last"))
    var buildUidRange: String?

    @Option(
        help: ArgumentHelp(
            "A variable of the worker's environment the build gets; repeatable; never AWS_* or JOBCREDS_* (env "
                + "JOBCREDS_WORKER_PASS_ENV, names separated by spaces).", valueName: "name"))
    var passEnv: [String] = []

    @Option(help: "The audit log file, - for stdout (env JOBCREDS_WORKER_AUDIT_LOG; default -).")
    var auditLog: String?

    @Option(help: "Serve metrics at HOST:PORT (env JOBCREDS_WORKER_METRICS_LISTEN; default off).")
    var metricsListen: String?

    @Flag(help: "The action type is a third-party one (env JOBCREDS_WORKER_THIRD_PARTY=true).")
    var thirdParty = false

    @Option(help: "A JSON object of clientId to client token, with --third-party (env JOBCREDS_WORKER_CLIENT_TOKENS).")
    var clientTokens: String?

    @Flag(help: "Take one job, then exit 0 if it succeeded, 1 if it failed (env JOBCREDS_WORKER_ONCE=true).")
    var once = false

    @Option(help: "The AWS region (env JOBCREDS_WORKER_REGION, then AWS_REGION, AWS_DEFAULT_REGION).")
    var region: String?

    @Option(help: "The CodePipeline endpoint (env JOBCREDS_WORKER_ENDPOINT_URL, then AWS_ENDPOINT_URL_CODEPIPELINE).")
    var endpointUrl: String?

    @Option(
        name: .customLong("s3-endpoint-url"),
        help: "Where presigned URLs point instead of the region's S3 (env JOBCREDS_WORKER_S3_ENDPOINT_URL).")
    var s3EndpointUrl: String?

    @Option(help: "A PEM file of extra CAs to trust (env JOBCREDS_WORKER_CA_BUNDLE, then AWS_CA_BUNDLE).")
    var caBundle: String?

    @Flag(help: "Use the FIPS endpoint (env JOBCREDS_WORKER_FIPS=true).")
    var fips = false

    @Option(help: "Assumed credential lifetime (env JOBCREDS_WORKER_CREDENTIAL_LIFETIME; default 15m).")
    var credentialLifetime: String?

    @Option(help: "The longest a presigned URL lives, at most 1h (env JOBCREDS_WORKER_PRESIGN_TTL; default 15m).")
    var presignTtl: String?

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    @Argument(
        parsing: .captureForPassthrough,
        help: ArgumentHelp("The build command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        if let first = command.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: WorkerSettings
        let logger = try logging.bootstrap(environment: environment)
        do {
            settings = try self.settings(environment)
        } catch {
            throw CommandFailure.worker.exit(error)
        }
        let signals = SignalWaiter([SIGTERM, SIGINT])
        signal(SIGPIPE, SIG_IGN)
        let transport = CurlTransport(
            settings: .init(
                caBundle: Self.environment(environment).caBundle(flag: caBundle),
                userAgent: "jobcreds-worker/\(Version.current)"))
        let shutdown = Shutdown()
        let worker: JobWorker
        do {
            let loopback = CurlTransport(
                settings: .init(
                    maxResponseBytes: 64 << 10, userAgent: "jobcreds-worker/\(Version.current)", useProxy: false))
            worker = try JobWorker(
                settings, environment: environment, transport: transport, loopback: loopback, shutdown: shutdown,
                logger: logger)
        } catch {
            throw CommandFailure.worker.exit(error)
        }
        ProcessHygiene.scrubSecretsFromEnvironment()
        let listener = Task {
            while !Task.isCancelled {
                _ = await signals.next()
                shutdown.request()
            }
        }
        let exit = await worker.run()
        listener.cancel()
        switch exit {
        case .stopped, .succeeded: return
        case .failed: throw ExitCode(1)
        case .owed: throw ExitCode(75)
        }
    }

    /// `JOBCREDS_WORKER_<OPTION>`.
    private static func environment(_ environment: [String: String]) -> EnvironmentOptions {
        EnvironmentOptions(environment, prefix: "JOBCREDS_WORKER_")
    }

    /// The settings, with `JOBCREDS_WORKER_*` fallbacks; a bad value is a usage error naming the fix.
    private func settings(_ environment: [String: String]) throws(JobCredsError) -> WorkerSettings {
        let env = Self.environment(environment)
        guard let provider = provider ?? env["PROVIDER"] else {
            throw JobCredsError(.usage, "missing --provider (or JOBCREDS_WORKER_PROVIDER): the action type's provider")
        }
        let thirdParty = self.thirdParty || env.flag("THIRD_PARTY")
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard !arguments.isEmpty, !arguments[0].isEmpty else {
            throw JobCredsError(.usage, "missing COMMAND: give the build command after --")
        }
        let clientTokens = self.clientTokens ?? env["CLIENT_TOKENS"]
        guard thirdParty == (clientTokens != nil) else {
            throw JobCredsError(
                .usage, "--third-party and --client-tokens go together: a third-party job needs its client's token")
        }
        var queryParam: [String: String] = [:]
        if let text = query ?? env["QUERY"] {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw JobCredsError(.usage, "--query takes NAME=VALUE, e.g. --query ProjectName=web")
            }
            queryParam[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        var concurrency = self.concurrency ?? 1
        if self.concurrency == nil, let text = env["CONCURRENCY"] {
            guard let value = Int(text) else { throw JobCredsError(.usage, "--concurrency takes a whole number") }
            concurrency = value
        }
        guard (1...256).contains(concurrency) else {
            throw JobCredsError(.usage, "--concurrency must be 1 to 256")
        }
        let artifactsText = artifacts ?? env["ARTIFACTS"] ?? "stage"
        guard let handling = WorkerSettings.ArtifactHandling(rawValue: artifactsText) else {
            throw JobCredsError(.usage, "--artifacts takes stage or none, not \(artifactsText)")
        }
        let accessText = buildAccess ?? env["BUILD_ACCESS"] ?? (handling == .stage ? "none" : "credentials")
        guard let access = WorkerSettings.BuildAccess(rawValue: accessText) else {
            throw JobCredsError(.usage, "--build-access takes credentials, presign or none, not \(accessText)")
        }
        var pass = passEnv
        if pass.isEmpty, let names = env["PASS_ENV"] { pass = names.split(separator: " ").map(String.init) }
        for name in pass where JobEnvironmentRules.refuses(name) {
            throw JobCredsError(
                .usage, "--pass-env \(name): the worker's AWS_* and JOBCREDS_* variables never reach the build")
        }
        let duration = {
            (flag: String?, name: String, option: String, fallback: Duration) throws(JobCredsError) -> Duration in
            guard let text = flag ?? env[name] else { return fallback }
            let value = try DurationText.parse(text, option: option)
            guard value > .zero else { throw JobCredsError(.usage, "\(option) must be above 0") }
            return value
        }
        return WorkerSettings(
            actionType: ActionTypeID(
                category: category ?? env["CATEGORY"] ?? "Build",
                owner: owner ?? env["OWNER"] ?? (thirdParty ? "ThirdParty" : "Custom"), provider: provider,
                version: actionVersion ?? env["ACTION_VERSION"] ?? "1"),
            query: queryParam, concurrency: concurrency,
            pollInterval: try duration(
                pollInterval, "POLL_INTERVAL", "--poll-interval", WorkerSettings.defaultPollInterval),
            buildTimeout: try duration(
                buildTimeout, "BUILD_TIMEOUT", "--build-timeout", WorkerSettings.defaultBuildTimeout),
            drainTimeout: try duration(
                drainTimeout, "DRAIN_TIMEOUT", "--drain-timeout", WorkerSettings.defaultDrainTimeout),
            workDirectory: workDir ?? env["WORK_DIR"] ?? WorkerSettings.defaultWorkDirectory,
            stateDirectory: stateDir ?? env["STATE_DIR"] ?? WorkerSettings.defaultStateDirectory,
            workerId: workerId ?? env["WORKER_ID"] ?? Self.hostName(),
            artifacts: handling, buildAccess: access, buildUsers: try users(env), passEnvironment: pass,
            auditLog: auditLog ?? env["AUDIT_LOG"] ?? "-",
            metricsListen: try (metricsListen ?? env["METRICS_LISTEN"]).map { (text) throws(JobCredsError) in
                try ListenAddress.anyHost(text, option: "--metrics-listen")
            }, clientTokensFile: clientTokens,
            once: once || env.flag("ONCE"),
            command: arguments,
            upstream: UpstreamSettings(
                jobId: "", clientTokenFile: nil, region: region ?? env["REGION"],
                endpointURL: endpointUrl ?? env["ENDPOINT_URL"], fips: fips || env.flag("FIPS")),
            s3EndpointURL: s3EndpointUrl ?? env["S3_ENDPOINT_URL"],
            credentialLifetime: try duration(
                credentialLifetime, "CREDENTIAL_LIFETIME", "--credential-lifetime",
                ServeSettings.defaultCredentialLifetime),
            presignLifetime: try presignLifetime(presignTtl ?? env["PRESIGN_TTL"]))
    }

    private func users(_ env: EnvironmentOptions) throws(JobCredsError) -> BuildUsers {
        let user = buildUser ?? env["BUILD_USER"]
        let range = buildUidRange ?? env["BUILD_UID_RANGE"]
        switch (user, range) {
        case (nil, nil): return .worker
        case (.some, .some):
            throw JobCredsError(.usage, "give --build-user or --build-uid-range, not both")
        case (let name?, nil):
            guard let entry = getpwnam(name) else {
                throw JobCredsError(.usage, "--build-user \(name): no such user")
            }
            guard entry.pointee.pw_uid != 0 else { throw JobCredsError(.usage, "--build-user must not be root") }
            return .user(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        case (nil, let text?):
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let first = UInt32(parts[0]), let last = UInt32(parts[1]), first >= 1000,
                first <= last, last < 4_294_967_295
            else {
                throw JobCredsError(
                    .usage, "--build-uid-range takes FIRST-LAST, uids of 1000 and above, e.g. 200000-200063")
            }
            guard geteuid() == 0 else {
                throw JobCredsError(.usage, "--build-uid-range needs the worker to run as root (to change user)")
            }
            return .range(first...last)
        }
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "worker" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
