import AWSIdentity
import Artifacts
import CodePipeline
import Glibc
import HTTPTransport
import JobCreds
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Runs each job's build on this machine: a workspace of its own, a sidecar of its own in this
/// process (its own loopback listener and token), the command in a session of its own as the
/// build's user with an environment made from nothing, its output scrubbed into the job's log.
final class LocalExecutor: Sendable {
    private let settings: WorkerSettings
    private let region: String
    private let identity: RefreshingCredentialProvider
    private let client: CodePipelineClient
    /// For staged artifacts: S3 (through the worker's CA bundle and proxy), and the job's sidecar
    /// on loopback (never through a proxy).
    private let s3: any HTTPTransport
    private let loopback: any HTTPTransport
    private let environment: [String: String]
    private let users: UserPool
    private let metrics: WorkerMetrics
    private let logger: Logger
    private let running = Mutex<[String: BuildProcess]>([:])
    /// Set once the drain timeout passed: a build that starts after it is stopped at once.
    private let stopping = Atomic<Bool>(false)

    init(
        settings: WorkerSettings, region: String, identity: RefreshingCredentialProvider, client: CodePipelineClient,
        s3: any HTTPTransport, loopback: any HTTPTransport, environment: [String: String], users: UserPool,
        metrics: WorkerMetrics, logger: Logger
    ) {
        self.s3 = s3
        self.loopback = loopback
        self.metrics = metrics
        self.settings = settings
        self.region = region
        self.identity = identity
        self.client = client
        self.environment = environment
        self.users = users
        self.logger = logger
    }

    /// Stops every running build (the drain timeout passed).
    func stopAll() {
        let builds = running.withLock { running in
            stopping.store(true, ordering: .releasing)
            return Array(running.values)
        }
        for build in builds { build.stop(.drain) }
    }

    /// Runs `job`'s build to its end. `started` is told the build's session and uid before
    /// anything else happens to it (the journal records them). Returns the outcome and what
    /// removes the job's workspace (after the report).
    func run(
        _ job: TakenJob, audit: AuditLog, secretConfiguration: Set<String>,
        started: @Sendable (_ session: Int32, _ uid: UInt32?) -> Void
    ) async -> (BuildOutcome, cleanup: @Sendable () -> Void) {
        let name = Directories.safeName(job.id.value)
        let workspace = settings.workDirectory + "/" + name
        let runDirectory = settings.stateDirectory + "/run/" + name
        let user: (uid: UInt32, gid: UInt32)?
        switch users.take() {
        case .some(let taken): user = taken
        case .none: return (.systemUnavailable("no build user of --build-uid-range is free"), {})
        }
        let cleanup: @Sendable () -> Void = { [users] in
            Trees.remove(workspace)
            Trees.remove(runDirectory)
            users.release(user?.uid)
        }
        let scrubber = Scrubber(Self.secrets(of: job, configuration: secretConfiguration))
        do throws(JobCredsError) {
            try makeWorkspace(workspace, runDirectory: runDirectory, user: user)
        } catch {
            return (.systemUnavailable("the workspace cannot be made: \(error.message)"), cleanup)
        }
        var sidecar: Sidecar?
        var access: JobEnvironment.Access?
        var staging: ArtifactStaging?
        let staged = settings.artifacts == .stage
        if settings.buildAccess != .none || staged {
            let tokenFile = runDirectory + "/token"
            let stagingToken = runDirectory + "/staging-token"
            do throws(JobCredsError) {
                let started = try startSidecar(
                    job, tokenFile: settings.buildAccess != .none ? tokenFile : nil,
                    stagingToken: staged ? stagingToken : nil, uid: settings.buildUsers.isolated ? user?.uid : nil)
                sidecar = started
                scrubber.follow { [cache = started.cache] in
                    guard let credentials = cache.current.snapshot?.details.artifactCredentials else { return [] }
                    return [credentials.secretAccessKey, credentials.sessionToken].compactMap { $0 }
                }
                if let user, settings.buildAccess != .none {
                    guard chown(tokenFile, user.uid, user.gid) == 0 else {
                        throw JobCredsError(.failed, "cannot give the token file to the build's user")
                    }
                }
                access = JobEnvironment.Access(port: started.port, tokenFile: tokenFile)
                if staged {
                    let (loopback, s3) = (self.loopback, self.s3)
                    let sidecarClient = SidecarClient(
                        base: "http://127.0.0.1:\(started.port)", tokenFile: stagingToken, transport: loopback)
                    staging = ArtifactStaging(
                        details: job.details, workspace: workspace, user: user,
                        transfer: { ObjectTransfer(artifact: $0, sidecar: sidecarClient, s3: s3) }, audit: audit,
                        temporaryDirectory: runDirectory, scrubber: scrubber)
                }
                if let failure = await ready(started, scrubber: scrubber) {
                    await started.stop(reason: "job_done")
                    return (failure, cleanup)
                }
            } catch {
                await sidecar?.stop(reason: "job_done")
                return (.systemUnavailable("the job's sidecar cannot start: \(error.message)"), cleanup)
            }
        }
        if let staging, let failure = await staging.pullInputs() {
            await sidecar?.stop(reason: "job_done")
            return (failure, cleanup)
        }
        var outcome = await build(
            job, workspace: workspace, user: user, access: access, staged: staging?.environment ?? [:],
            scrubber: scrubber, audit: audit, started: started)
        if let staging, case .succeeded = outcome, let failure = await staging.pushOutputs() {
            outcome = failure
        }
        if let sidecar, case .failed(_, let reason) = sidecar.cache.current, Self.refusals.contains(reason) {
            // The build failed while CodePipeline refused the worker the job's fresh credentials.
            switch outcome {
            case .exited(let status, _):
                outcome = .noCredentials(
                    "CodePipeline refused the worker the job's credentials (GetJobDetails: \(reason)) while the "
                        + "build ran; the build exited with status \(status)")
            case .signaled, .timedOut:
                outcome = .noCredentials(
                    "CodePipeline refused the worker the job's credentials (GetJobDetails: \(reason)) while the "
                        + "build ran, and the build did not finish")
            default: break
            }
        }
        await sidecar?.stop(reason: "job_done")
        return (outcome, cleanup)
    }

    /// The refresh failures that mean the worker may not have the job's credentials.
    private static let refusals: Set<String> = [
        CodePipelineError.Code.accessDenied.rawValue, CodePipelineError.Code.clientTokenRejected.rawValue,
    ]

    // MARK: - The steps

    private func makeWorkspace(
        _ workspace: String, runDirectory: String, user: (uid: UInt32, gid: UInt32)?
    ) throws(JobCredsError) {
        try Directories.make(settings.workDirectory, mode: 0o711)
        try Directories.make(settings.stateDirectory + "/run", mode: 0o711)
        try Directories.make(settings.stateDirectory + "/logs", mode: 0o700)
        Trees.remove(workspace)  // a previous run's, left by a crash
        Trees.remove(runDirectory)
        for (path, mode) in [
            (workspace, 0o700), (workspace + "/.tmp", 0o700), (workspace + "/" + ResultDirectory.name, 0o700),
        ] {
            guard mkdir(path, mode_t(mode)) == 0 else {
                throw JobCredsError(.failed, "cannot make \(path): \(Directories.reason())")
            }
            if let user {
                guard chown(path, user.uid, user.gid) == 0 else {
                    throw JobCredsError(.failed, "cannot give \(path) to the build's user: \(Directories.reason())")
                }
            }
        }
        guard mkdir(runDirectory, 0o711) == 0 else {
            throw JobCredsError(.failed, "cannot make \(runDirectory): \(Directories.reason())")
        }
    }

    /// The job's sidecar, with the build's token (`tokenFile`, its scopes from `--build-access`)
    /// and the worker's own staging token (`download,upload`), each when there is one; with a
    /// build user of its own (a uid range), it answers that user's connections only (and root's).
    private func startSidecar(
        _ job: TakenJob, tokenFile: String?, stagingToken: String?, uid: UInt32?
    ) throws(JobCredsError) -> Sidecar {
        var upstreamSettings = settings.upstream
        upstreamSettings.jobId = job.id.value
        var gate = GateSettings()
        if let uid { gate.allowedUsers = [uid] }
        let serve = ServeSettings(
            upstream: upstreamSettings, listen: try ListenAddress("127.0.0.1:0"),
            tokenFiles: try [
                tokenFile.map { $0 + ":" + JobEnvironment.scopes(settings.buildAccess) },
                stagingToken.map { $0 + ":download,upload" },
            ].compactMap { $0 }.map { (spec) throws(JobCredsError) in try TokenFileSpec(parsing: spec) },
            tokenFileMode: 0o400, auditLog: settings.auditLog, credentialLifetime: settings.credentialLifetime,
            threads: 1, gate: gate, presignLifetime: settings.presignLifetime, s3EndpointURL: settings.s3EndpointURL)
        let (id, token, region, identity, client) = (job.id, job.clientToken, region, identity, client)
        // Served at once from the poll's answer, refreshed with GetJobDetails when due; the
        // configuration values the worker decoded (to scrub them) stay out of it.
        var seed = job.details
        seed.configurationValues = [:]
        return try Sidecar(serve, environment: environment, logger: logger, seed: seed, s3Transport: s3) { observer in
            Upstream(
                jobId: id, clientToken: token, region: region, identity: identity, client: client.observed(by: observer)
            )
        }
    }

    /// Waits until the sidecar serves the job's credentials; the outcome that ends the job when
    /// they cannot be had.
    private func ready(_ sidecar: Sidecar, scrubber: Scrubber) async -> BuildOutcome? {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            switch sidecar.cache.current {
            case .fresh(let snapshot), .refreshing(let snapshot):
                let credentials = snapshot.details.artifactCredentials
                scrubber.add([credentials.secretAccessKey, credentials.sessionToken].compactMap { $0 })
                return nil
            case .failed(_, let reason)
            where reason == CodePipelineError.Code.accessDenied.rawValue
                || reason == CodePipelineError.Code.clientTokenRejected.rawValue:
                return .noCredentials("CodePipeline refused the worker the job's credentials (\(reason))")
            case .jobEnded(let reason):
                return .systemUnavailable("CodePipeline ended the job before its build started: \(reason)")
            case .empty, .fetching, .failed:
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        return .systemUnavailable("the job's credentials could not be fetched within 60s")
    }

    private func build(
        _ job: TakenJob, workspace: String, user: (uid: UInt32, gid: UInt32)?, access: JobEnvironment.Access?,
        staged: [String: String], scrubber: Scrubber, audit: AuditLog, started: @Sendable (Int32, UInt32?) -> Void
    ) async -> BuildOutcome {
        var variables = JobEnvironment.make(
            job: job.details, region: region, workspace: workspace,
            resultDirectory: workspace + "/" + ResultDirectory.name, access: settings.buildAccess, sidecar: access,
            pass: settings.passEnvironment, worker: environment)
        variables.merge(staged) { _, staged in staged }
        let program: String
        do throws(JobCredsError) {
            program = try CommandPath.resolve(settings.command[0], searchPath: variables["PATH"])
        } catch {
            return .cannotRun(error)
        }
        let log: BuildLog
        let process: BuildProcess
        do throws(JobCredsError) {
            log = try BuildLog(
                path: settings.stateDirectory + "/logs/" + Directories.safeName(job.id.value) + ".log",
                jobId: job.id.value, scrubber: scrubber, logger: logger)
            defer { log.closeWriteEnd() }
            process = try BuildProcess(
                path: program, arguments: settings.command, environment: variables, directory: workspace,
                user: user, output: log.writeEnd)
        } catch  where error.code == .commandNotFound || error.code == .commandNotExecutable {
            return .cannotRun(error)
        } catch {
            return .systemUnavailable(error.message)
        }
        let begun = ContinuousClock.now
        started(process.pid, user?.uid)
        let late = running.withLock { running in
            running[job.id.value] = process
            return stopping.load(ordering: .acquiring)
        }
        if late { process.stop(.drain) }  // it started while the drain ended
        metrics.buildStarted()
        audit.lifecycle(
            .buildStarted, [("build_access", settings.buildAccess.rawValue)],
            numbers: [("uid", Int(user?.uid ?? geteuid())), ("pid", Int(process.pid))])
        let timeout = settings.buildTimeout
        let timer = Task {
            try await Task.sleep(for: timeout)
            process.stop(.timeout)
        }
        let exit = await process.exit()
        timer.cancel()
        running.withLock { _ = $0.removeValue(forKey: job.id.value) }
        metrics.buildFinished(after: ContinuousClock.now - begun)
        process.killGroup()  // what the build left behind in its session
        if let user { _ = BuildProcess.killUser(user.uid) }  // and anywhere else
        await log.finish(within: .seconds(2))
        let seconds = Int((ContinuousClock.now - begun).components.seconds)
        var fields: [(String, String?)] = [("stopped", process.stopReason?.rawValue)]
        var numbers = [("seconds", seconds)]
        switch exit {
        case .exited(let status): numbers.append(("exit_status", Int(status)))
        case .signaled(let signal): fields.append(("signal", Self.signalName(signal)))
        }
        audit.lifecycle(.buildFinished, fields, numbers: numbers)
        switch (process.stopReason, exit) {
        case (.timeout, _): return .timedOut(timeout)
        case (.drain, _): return .stopped
        case (nil, .exited(0)):
            // What the build wrote leaves the worker too: scrubbed as its output is.
            do throws(JobCredsError) {
                let contents = try ResultDirectory(workspace: workspace, owner: user?.uid).read()
                return .succeeded(try contents.scrubbed(by: scrubber), seconds: seconds)
            } catch {
                return .badResult(JobCredsError(error.code, scrubber.scrub(error.message)))
            }
        case (nil, .exited(let status)): return .exited(status, lastLines: log.lastLines)
        case (nil, .signaled(let signal)): return .signaled(signal, lastLines: log.lastLines)
        }
    }

    /// The values the build's output is scrubbed of before it leaves: the artifact credentials
    /// and the values of the secret configuration properties.
    private static func secrets(of job: TakenJob, configuration names: Set<String>) -> [String] {
        let credentials = job.details.artifactCredentials
        var values = [credentials.secretAccessKey, credentials.sessionToken].compactMap { $0 }
        values += job.details.configurationValues.filter { names.contains($0.key) }.map(\.value)
        if let token = job.clientToken { values.append(token.value) }
        return values
    }

    /// `SIGTERM` for 15, else the number.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
            SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE",
            SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2", SIGXCPU: "SIGXCPU",
            SIGXFSZ: "SIGXFSZ",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
