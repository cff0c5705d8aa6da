import ArgumentParser
import CurlHTTP
import Glibc
import JobCreds
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds serve`: the sidecar.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the job's artifact credentials, and nothing else, on loopback to the build next to it.",
        discussion: """
            Give the build container AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9911/v1/credentials \
            and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=<--token-file>. Every option can also be set as \
            JOBCREDS_<OPTION> (e.g. JOBCREDS_JOB_ID); the flag wins.
            """)

    @OptionGroup var upstream: UpstreamOptions

    @Option(help: "The address to listen on (env JOBCREDS_LISTEN; default \(ListenAddress.defaultText)).")
    var listen: String?

    @Option(
        help: ArgumentHelp(
            "A token file tools send from, created with a fresh token if missing; repeat for several tokens, each "
                + "with its scopes after a colon (credentials, artifacts, download, upload, configuration; default "
                + "credentials,artifacts) (env JOBCREDS_TOKEN_FILE, or JOBCREDS_TOKEN_FILES: several, separated by "
                + "spaces or newlines).", valueName: "path[:scopes]"))
    var tokenFile: [String] = []

    @Option(
        help: """
            The mode of a created token file (env JOBCREDS_TOKEN_FILE_MODE; default \
            \(TokenFile.formatMode(ServeSettings.defaultTokenFileMode))).
            """)
    var tokenFileMode: String?

    @Option(
        help: "The audit log file, - for stdout (env JOBCREDS_AUDIT_LOG; default \(ServeSettings.defaultAuditLog)).")
    var auditLog: String?

    @Option(
        help: """
            Assumed credential lifetime when CodePipeline gives none (env JOBCREDS_CREDENTIAL_LIFETIME; default \
            \(DurationText.format(ServeSettings.defaultCredentialLifetime))).
            """)
    var credentialLifetime: String?

    @Option(
        help: """
            Refused requests (no or wrong token, gate refusals) per second per client (user, or address) before they \
            are answered 429; a request with the token never is; 0 for no limit (env JOBCREDS_RATE_LIMIT; default \
            \(Self.defaults.ratePerSecond.formatted)).
            """)
    var rateLimit: Double?

    @Option(
        help: """
            Refused requests a client may send at once above the rate (env JOBCREDS_RATE_BURST; default \
            \(Self.defaults.burst)).
            """)
    var rateBurst: Int?

    @Option(help: "The most open connections (env JOBCREDS_MAX_CONNECTIONS; default \(Self.defaults.maxConnections)).")
    var maxConnections: Int?

    @Option(
        help: """
            The most open connections per client, a user or address (env JOBCREDS_MAX_CONNECTIONS_PER_CLIENT; default \
            \(Self.defaults.maxConnectionsPerClient)).
            """)
    var maxConnectionsPerClient: Int?

    @Option(
        help: """
            Close a connection idle this long (env JOBCREDS_IDLE_TIMEOUT; default \
            \(DurationText.format(.seconds(Self.defaults.idleTimeoutSeconds)))).
            """)
    var idleTimeout: String?

    @Option(
        help: """
            Close a connection that has not sent its whole request head this long after connecting, however \
            slowly it sends (env JOBCREDS_REQUEST_HEAD_TIMEOUT; default \
            \(DurationText.format(Self.defaults.requestHeadDeadline))).
            """)
    var requestHeadTimeout: String?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 0.0.0.0:9912; nothing secret is there "
                + "(env JOBCREDS_METRICS_LISTEN; default off).", valueName: "host:port"))
    var metricsListen: String?

    @Option(
        help: ArgumentHelp(
            "Also answer as the EC2 instance metadata service (IMDSv2) at http://HOST:PORT, for clients that know "
                + "nothing else; no token: anyone who reaches it gets the credentials (env JOBCREDS_IMDS_LISTEN; "
                + "default off).", valueName: "host:port"))
    var imdsListen: String?

    @Option(
        help: ArgumentHelp(
            "The longest a presigned artifact URL lives, at most 1h (env JOBCREDS_PRESIGN_TTL; default "
                + "\(DurationText.format(RoutingSettings.defaultPresignLifetime))).", valueName: "duration"))
    var presignTtl: String?

    @Option(
        name: .customLong("s3-endpoint-url"),
        help: ArgumentHelp(
            "Where presigned URLs point instead of the region's S3 (env JOBCREDS_S3_ENDPOINT_URL, then "
                + "AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL).", valueName: "url"))
    var s3EndpointUrl: String?

    @Flag(
        help: ArgumentHelp(
            "Serve the action's non-secret configuration at /v1/configuration: the values of the properties its "
                + "action type declares with secret false, looked up with ListActionTypes (env "
                + "JOBCREDS_EXPOSE_CONFIGURATION=true; default off)."))
    var exposeConfiguration = false

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    /// The gate's limits when no option changes them: the help text and the parsing read them here.
    static let defaults = GateSettings()

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let env = EnvironmentOptions(environment)
        let settings: ServeSettings
        let logger: Logger
        do {
            logger = try logging.bootstrap(environment: environment)
            var tokenTexts = tokenFile
            if tokenTexts.isEmpty {
                tokenTexts =
                    [env["TOKEN_FILE"]].compactMap { $0 }
                    + (env["TOKEN_FILES"] ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
                    .map(String.init)
            }
            guard !tokenTexts.isEmpty else {
                throw JobCredsError(
                    .usage, "missing --token-file (or JOBCREDS_TOKEN_FILE): where the token tools send lives")
            }
            var tokenFiles: [TokenFileSpec] = []
            for text in tokenTexts { tokenFiles.append(try TokenFileSpec(parsing: text)) }
            var gate = Self.defaults
            gate.ratePerSecond = try number(rateLimit, env["RATE_LIMIT"], "--rate-limit", default: gate.ratePerSecond)
            gate.burst = try count(rateBurst, env["RATE_BURST"], "--rate-burst", default: gate.burst)
            gate.maxConnections = try count(
                maxConnections, env["MAX_CONNECTIONS"], "--max-connections", default: gate.maxConnections)
            gate.maxConnectionsPerClient = try count(
                maxConnectionsPerClient, env["MAX_CONNECTIONS_PER_CLIENT"], "--max-connections-per-client",
                default: gate.maxConnectionsPerClient)
            if let text = idleTimeout ?? env["IDLE_TIMEOUT"] {
                let seconds = try DurationText.parse(text, option: "--idle-timeout").components.seconds
                guard seconds >= 1, seconds < Int64(Int32.max) else {
                    throw JobCredsError(.usage, "--idle-timeout must be below \(Int32.max) seconds and at least 1s")
                }
                gate.idleTimeoutSeconds = Int(seconds)
            }
            if let text = requestHeadTimeout ?? env["REQUEST_HEAD_TIMEOUT"] {
                let deadline = try DurationText.parse(text, option: "--request-head-timeout")
                guard deadline > .zero, deadline <= .seconds(3600) else {
                    throw JobCredsError(.usage, "--request-head-timeout must be above 0 and at most 1h")
                }
                gate.requestHeadDeadline = deadline
            }
            settings = ServeSettings(
                upstream: try upstream.settings(environment: environment),
                listen: try ListenAddress(listen ?? env["LISTEN"] ?? ListenAddress.defaultText),
                tokenFiles: tokenFiles,
                tokenFileMode: try (tokenFileMode ?? env["TOKEN_FILE_MODE"]).map(TokenFile.parseMode)
                    ?? ServeSettings.defaultTokenFileMode,
                auditLog: auditLog ?? env["AUDIT_LOG"] ?? ServeSettings.defaultAuditLog,
                credentialLifetime: try (credentialLifetime ?? env["CREDENTIAL_LIFETIME"]).map {
                    (text) throws(JobCredsError) in try DurationText.parse(text, option: "--credential-lifetime")
                } ?? ServeSettings.defaultCredentialLifetime,
                gate: gate,
                metricsListen: try (metricsListen ?? env["METRICS_LISTEN"]).map { (text) throws(JobCredsError) in
                    try ListenAddress.anyHost(text, option: "--metrics-listen")
                },
                imdsListen: try (imdsListen ?? env["IMDS_LISTEN"]).map { (text) throws(JobCredsError) in
                    try ListenAddress(text, option: "--imds-listen")
                },
                presignLifetime: try presignLifetime(presignTtl ?? env["PRESIGN_TTL"]),
                s3EndpointURL: s3EndpointUrl ?? env["S3_ENDPOINT_URL"],
                exposeConfiguration: exposeConfiguration || env.flag("EXPOSE_CONFIGURATION"))
        } catch let error as JobCredsError {
            throw CommandFailure.serve.exit(error)
        }

        let signals = SignalWaiter([SIGTERM, SIGINT, SIGHUP])
        signal(SIGPIPE, SIG_IGN)
        let transport = CurlTransport(
            settings: .init(
                caBundle: upstream.caBundlePath(environment: environment), userAgent: "jobcreds/\(Version.current)"))
        let sidecar: Sidecar
        do {
            sidecar = try Sidecar(settings, environment: environment, transport: transport, logger: logger)
        } catch {
            throw CommandFailure.serve.exit(error)
        }
        // The worker's keys have been read into the credential chain: gone from /proc/PID/environ.
        ProcessHygiene.scrubSecretsFromEnvironment()
        var received = await signals.next()
        while received == SIGHUP {
            sidecar.reload()
            received = await signals.next()
        }
        await sidecar.stop(reason: received == SIGTERM ? "SIGTERM" : "SIGINT")
    }
}

/// `--presign-ttl` (`serve` and `worker`): a duration of at most an hour, the default when not given.
func presignLifetime(_ text: String?) throws(JobCredsError) -> Duration {
    guard let text else { return RoutingSettings.defaultPresignLifetime }
    let lifetime = try DurationText.parse(text, option: "--presign-ttl")
    guard lifetime <= RoutingSettings.longestPresignLifetime else {
        throw JobCredsError(.usage, "--presign-ttl \(text) is longer than 1h")
    }
    return lifetime
}

/// A non-negative whole number from a flag, else its environment variable (read as `number`
/// reads it, then truncated), else `default`.
private func count(
    _ flag: Int?, _ environment: String?, _ option: String, default value: Int
) throws(JobCredsError)
    -> Int
{
    let parsed = try number(flag.map(Double.init), environment, option, default: Double(value))
    guard parsed < Double(Int32.max) else { throw JobCredsError(.usage, "\(option) must be below \(Int32.max)") }
    return Int(parsed)
}

/// A non-negative number from a flag, else its environment variable, else `default`.
private func number(
    _ flag: Double?, _ environment: String?, _ option: String, default value: Double
) throws(JobCredsError)
    -> Double
{
    if let flag {
        guard flag >= 0, flag.isFinite else { throw JobCredsError(.usage, "\(option) must be a number of at least 0") }
        return flag
    }
    guard let environment else { return value }
    guard let parsed = Double(environment), parsed >= 0, parsed.isFinite else {
        throw JobCredsError(
            .usage, "\(option) (from the environment) must be a number of at least 0, not \(environment)")
    }
    return parsed
}

extension Double {
    /// `200` for a whole number, else as Swift prints it (`0.5`).
    fileprivate var formatted: String {
        rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self)
    }
}
