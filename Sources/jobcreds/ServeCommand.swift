import ArgumentParser
import CurlHTTP
import Dispatch
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

    @Option(help: "The address to listen on (env JOBCREDS_LISTEN; default 127.0.0.1:9911).")
    var listen: String?

    @Option(help: "The token file tools send from; created with a fresh token if missing (env JOBCREDS_TOKEN_FILE).")
    var tokenFile: String?

    @Option(help: "The mode of a created token file (env JOBCREDS_TOKEN_FILE_MODE; default 0600).")
    var tokenFileMode: String?

    @Option(help: "The audit log file, - for stdout (env JOBCREDS_AUDIT_LOG; default -).")
    var auditLog: String?

    @Option(
        help:
            "Assumed credential lifetime when CodePipeline gives none (env JOBCREDS_CREDENTIAL_LIFETIME; default 15m).")
    var credentialLifetime: String?

    @Option(
        help: "Requests per second allowed per client address, 0 for no limit (env JOBCREDS_RATE_LIMIT; default 200).")
    var rateLimit: Double?

    @Option(help: "Requests a client may send at once above the rate (env JOBCREDS_RATE_BURST; default 400).")
    var rateBurst: Int?

    @Option(help: "The most open connections (env JOBCREDS_MAX_CONNECTIONS; default 256).")
    var maxConnections: Int?

    @Option(
        help: "The most open connections per client address (env JOBCREDS_MAX_CONNECTIONS_PER_CLIENT; default 128).")
    var maxConnectionsPerClient: Int?

    @Option(help: "Close a connection idle this long (env JOBCREDS_IDLE_TIMEOUT; default 10s).")
    var idleTimeout: String?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 0.0.0.0:9912; nothing secret is there "
                + "(env JOBCREDS_METRICS_LISTEN; default off).", valueName: "host:port"))
    var metricsListen: String?

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let env = EnvironmentOptions(environment)
        let settings: ServeSettings
        let logger: Logger
        do {
            logger = try logging.bootstrap(environment: environment)
            guard let tokenFile = tokenFile ?? env["TOKEN_FILE"] else {
                throw JobCredsError(
                    .usage, "missing --token-file (or JOBCREDS_TOKEN_FILE): where the token tools send lives")
            }
            var gate = GateSettings()
            gate.ratePerSecond = try number(rateLimit, env["RATE_LIMIT"], "--rate-limit", default: gate.ratePerSecond)
            gate.burst = Int(try number(rateBurst.map(Double.init), env["RATE_BURST"], "--rate-burst", default: 400))
            gate.maxConnections = Int(
                try number(maxConnections.map(Double.init), env["MAX_CONNECTIONS"], "--max-connections", default: 256))
            gate.maxConnectionsPerClient = Int(
                try number(
                    maxConnectionsPerClient.map(Double.init), env["MAX_CONNECTIONS_PER_CLIENT"],
                    "--max-connections-per-client", default: 128))
            gate.idleTimeoutSeconds = Int(
                try DurationText.parse(idleTimeout ?? env["IDLE_TIMEOUT"] ?? "10s", option: "--idle-timeout")
                    .components.seconds)
            settings = ServeSettings(
                upstream: try upstream.settings(environment: environment),
                listen: try ListenAddress(listen ?? env["LISTEN"] ?? ListenAddress.defaultText),
                tokenFile: tokenFile,
                tokenFileMode: try TokenFile.parseMode(tokenFileMode ?? env["TOKEN_FILE_MODE"] ?? "0600"),
                auditLog: auditLog ?? env["AUDIT_LOG"] ?? "-",
                credentialLifetime: try DurationText.parse(
                    credentialLifetime ?? env["CREDENTIAL_LIFETIME"] ?? "15m", option: "--credential-lifetime"),
                gate: gate,
                metricsListen: try (metricsListen ?? env["METRICS_LISTEN"]).map { (text) throws(JobCredsError) in
                    try ListenAddress.anyHost(text, option: "--metrics-listen")
                })
        } catch let error as JobCredsError {
            StandardError.writeLine("jobcreds serve: \(error.message)")
            throw ExitCode(error.code.rawValue)
        }

        let signals = SignalWaiter([SIGTERM, SIGINT, SIGHUP])
        signal(SIGPIPE, SIG_IGN)
        let transport = CurlTransport(
            settings: .init(
                caBundle: upstream.caBundlePath(environment: environment), userAgent: "jobcreds/\(Sidecar.version)"))
        let sidecar: Sidecar
        do {
            sidecar = try Sidecar(settings, environment: environment, transport: transport, logger: logger)
        } catch {
            StandardError.writeLine("jobcreds serve: \(error.message)")
            throw ExitCode(error.code.rawValue)
        }
        var received = await signals.next()
        while received == SIGHUP {
            sidecar.reload()
            received = await signals.next()
        }
        await sidecar.stop(reason: received == SIGTERM ? "SIGTERM" : "SIGINT")
    }
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

/// Waits for signals with dispatch sources (the signals are ignored first, so they only wake us).
final class SignalWaiter: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private var iterator: AsyncStream<Int32>.Iterator
    private let continuation: AsyncStream<Int32>.Continuation

    init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.continuation = continuation
        iterator = stream.makeAsyncIterator()
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [continuation] in continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// The next signal received. Call from one task at a time.
    func next() async -> Int32 {
        await iterator.next() ?? SIGTERM
    }
}
