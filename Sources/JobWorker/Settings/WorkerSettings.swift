import CodePipeline
import JobCreds

/// Everything `jobcreds worker` is told.
public struct WorkerSettings: Sendable {
    /// What the build gets to reach the artifacts.
    public enum BuildAccess: String, Sendable, CaseIterable {
        /// The container-credentials variables: the artifact credentials (scopes `credentials,artifacts`).
        case credentials
        /// `JOBCREDS_URL` and a token for presigned URLs only (scopes `artifacts,download,upload`).
        case presign
        /// Nothing: the build holds no credential at all.
        case none
    }

    /// Who moves the artifacts.
    public enum ArtifactHandling: String, Sendable, CaseIterable {
        /// The worker: inputs pulled into `CODEPIPELINE_INPUT_DIR/NAME` before the build, every
        /// `CODEPIPELINE_OUTPUT_DIR/NAME` pushed after a successful one.
        case stage
        /// The build, with what `--build-access` gives it.
        case none
    }

    /// The action type whose jobs the worker takes.
    public var actionType: ActionTypeID
    /// `--query NAME=VALUE`: PollForJobs' `queryParam` (at most one entry).
    public var query: [String: String]
    /// Builds at once.
    public var concurrency: Int
    /// The wait after an empty poll (jittered ±20 %).
    public var pollInterval: Duration
    /// How long a build may run.
    public var buildTimeout: Duration
    /// How long running builds may go on after SIGTERM.
    public var drainTimeout: Duration
    /// Where each job's workspace is made.
    public var workDirectory: String
    /// Where the journal and the builds' logs live.
    public var stateDirectory: String
    /// This worker's name in external execution ids and audit lines.
    public var workerId: String
    /// Who moves the artifacts (`--artifacts`).
    public var artifacts: ArtifactHandling
    /// What the build gets.
    public var buildAccess: BuildAccess
    /// Which user each build runs as.
    public var buildUsers: BuildUsers
    /// Variables of the worker's environment the build gets.
    public var passEnvironment: [String]
    /// The audit log, `-` for standard output.
    public var auditLog: String
    /// Where `/metrics`, `/healthz` and `/readyz` are served; nil serves none.
    public var metricsListen: ListenAddress?
    /// The third-party client tokens file (`--third-party --client-tokens`); nil for a custom action.
    public var clientTokensFile: String?
    /// `--once`: take one job, then exit.
    public var once: Bool
    /// The build command and its arguments.
    public var command: [String]
    /// Region, endpoint, FIPS, attempt timeout (the job id is each job's).
    public var upstream: UpstreamSettings
    /// `--s3-endpoint-url`.
    public var s3EndpointURL: String?
    /// `--credential-lifetime`.
    public var credentialLifetime: Duration
    /// `--presign-ttl`.
    public var presignLifetime: Duration

    /// The default build timeout: below CodePipeline's 24 hours for a custom action.
    public static let defaultBuildTimeout: Duration = .seconds(23 * 3600)
    /// The default drain timeout.
    public static let defaultDrainTimeout: Duration = .seconds(600)
    /// The default poll interval.
    public static let defaultPollInterval: Duration = .seconds(5)
    /// The default work directory.
    public static let defaultWorkDirectory = "/var/lib/jobcreds/work"
    /// The default state directory.
    public static let defaultStateDirectory = "/var/lib/jobcreds/state"

    /// Whether the worker takes third-party jobs.
    public var thirdParty: Bool { clientTokensFile != nil }

    /// Creates settings.
    public init(
        actionType: ActionTypeID, query: [String: String] = [:], concurrency: Int = 1,
        pollInterval: Duration = WorkerSettings.defaultPollInterval,
        buildTimeout: Duration = WorkerSettings.defaultBuildTimeout,
        drainTimeout: Duration = WorkerSettings.defaultDrainTimeout,
        workDirectory: String = WorkerSettings.defaultWorkDirectory,
        stateDirectory: String = WorkerSettings.defaultStateDirectory, workerId: String,
        artifacts: ArtifactHandling = .stage, buildAccess: BuildAccess = .none, buildUsers: BuildUsers = .worker,
        passEnvironment: [String] = [],
        auditLog: String = "-", metricsListen: ListenAddress? = nil, clientTokensFile: String? = nil,
        once: Bool = false, command: [String],
        upstream: UpstreamSettings, s3EndpointURL: String? = nil,
        credentialLifetime: Duration = ServeSettings.defaultCredentialLifetime,
        presignLifetime: Duration = RoutingSettings.defaultPresignLifetime
    ) {
        self.actionType = actionType
        self.query = query
        self.concurrency = concurrency
        self.pollInterval = pollInterval
        self.buildTimeout = buildTimeout
        self.drainTimeout = drainTimeout
        self.workDirectory = workDirectory
        self.stateDirectory = stateDirectory
        self.workerId = workerId
        self.artifacts = artifacts
        self.buildAccess = buildAccess
        self.buildUsers = buildUsers
        self.passEnvironment = passEnvironment
        self.auditLog = auditLog
        self.metricsListen = metricsListen
        self.clientTokensFile = clientTokensFile
        self.once = once
        self.command = command
        self.upstream = upstream
        self.s3EndpointURL = s3EndpointURL
        self.credentialLifetime = credentialLifetime
        self.presignLifetime = presignLifetime
    }
}
