import AWSSigning
import Artifacts
import CodePipeline
import Glibc
import HTTPTransport
import JobCreds
import Logging
import MicroHTTPServer
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `jobcreds worker`: takes its action type's jobs and runs each beside a sidecar of its own.
///
/// A job's path, top to bottom in this file:
///
///     poll (free slots only) → take (journal, acknowledge: InProgress or drop)
///         → run (LocalExecutor: workspace, sidecar, build) → report (journal, retried until done)
///
/// The journal is written before each step, so a restarted worker reports what it owes: a
/// result it had not got through, or SystemUnavailable for a build it lost. Nothing it does not
/// own is ever reported.
public final class JobWorker: Sendable {
    /// How `run` ended.
    public enum Exit: Sendable, Equatable {
        /// Stopped by a signal, every result reported.
        case stopped
        /// `--once`: the job succeeded.
        case succeeded
        /// `--once`: the job failed.
        case failed
        /// Stopped by a second signal with results not yet sent: the journal keeps them, and the
        /// next start sends them.
        case owed
    }

    private let settings: WorkerSettings
    private let client: CodePipelineClient
    private let journal: Journal
    private let audit: AuditLog
    private let executor: LocalExecutor
    private let clientTokens: [String: ClientToken]
    private let logger: Logger
    private let running = Atomic<Int>(0)
    private let onceOutcome = Mutex<Exit?>(nil)
    private let secretConfiguration = Mutex<Set<String>>([])
    private let metrics: WorkerMetrics
    private let metricsServer: MicroHTTPServer?
    /// The stop requests (SIGTERM, SIGINT): the first stops polling and starts the drain; a second
    /// ends the drain and the retries of a report (the journal keeps it for the next start).
    private let shutdown: Shutdown
    private let owed = Atomic<Bool>(false)

    /// The longest wait between two tries of a poll or a report.
    static let longestBackoff: Duration = .seconds(300)

    /// Resolves the worker's identity and client, opens the journal and the audit log.
    /// - Throws: `JobCredsError` naming the fix.
    public init(
        _ settings: WorkerSettings, environment: [String: String], transport: any HTTPTransport,
        loopback: any HTTPTransport, shutdown: Shutdown, logger: Logger
    ) throws(JobCredsError) {
        self.shutdown = shutdown
        let sink = try FileAuditSink(path: settings.auditLog)
        let audit = AuditLog(sink: sink, clock: SystemWallClock(), jobId: nil)
        let (region, identity, client) = try Upstream.connect(
            settings.upstream, environment: environment, transport: transport, logger: logger,
            observer: { audit.upstream($0) })
        self.settings = settings
        self.client = client
        self.journal = try Journal(stateDirectory: settings.stateDirectory)
        self.audit = audit
        self.logger = logger
        self.clientTokens = try settings.clientTokensFile.map(ClientTokens.read) ?? [:]
        let metrics = WorkerMetrics(slots: Self.slots(settings))
        self.metrics = metrics
        self.executor = LocalExecutor(
            settings: settings, region: region, identity: identity, client: client, s3: transport, loopback: loopback,
            environment: environment, users: UserPool(settings.buildUsers), metrics: metrics, logger: logger)
        if let address = settings.metricsListen {
            do {
                metricsServer = try MicroHTTPServer(
                    .init(
                        host: address.host, port: address.port, threads: 1, connectionLimit: 16,
                        perClientConnectionLimit: 8, idleTimeoutSeconds: 10, maxBodyBytes: 0),
                    handler: WorkerEndpoint(metrics: metrics))
            } catch {
                throw JobCredsError(.usage, "cannot serve metrics on \(address): \(error)", underlying: error)
            }
        } else {
            metricsServer = nil
        }
        audit.lifecycle(
            .start,
            [
                ("version", Version.current), ("worker_id", settings.workerId),
                (
                    "action_type",
                    "\(settings.actionType.category)/\(settings.actionType.owner)/"
                        + "\(settings.actionType.provider)/\(settings.actionType.version)"
                ),
                ("build_access", settings.buildAccess.rawValue), ("identity", identity.name), ("region", region),
                ("endpoint", client.endpointDescription),
            ], numbers: [("concurrency", settings.concurrency)])
        if let metricsServer, let address = settings.metricsListen {
            audit.lifecycle(
                .listening,
                [
                    (
                        "metrics_address",
                        ListenAddress(unchecked: address.host, port: UInt16(metricsServer.port)).description
                    )
                ])
        }
    }

    /// Builds at once: the concurrency, and no more than the uid range has users.
    private static func slots(_ settings: WorkerSettings) -> Int {
        min(settings.concurrency, settings.buildUsers.capacity ?? settings.concurrency)
    }

    /// Finishes what the journal says is owed, then takes jobs until a stop is asked for (or,
    /// `--once`, one job), then drains.
    public func run() async -> Exit {
        await learnSecretProperties()
        await recover()
        let slots = Self.slots(settings)
        let wakeup = shutdown.wakeup
        var failures = 0
        var taken = 0
        await withTaskGroup(of: Void.self) { group in
            while shutdown.count == 0, !(settings.once && taken > 0) {
                let free = slots - running.load(ordering: .acquiring)
                guard free > 0 else {
                    await wakeup.wait(timeout: .seconds(3600))
                    continue
                }
                let jobs: [TakenJob]
                do throws(CodePipelineError) {
                    jobs = try await take(max: settings.once ? 1 : free)
                    failures = 0
                    metrics.setReady(true)
                } catch {
                    metrics.polled(.failed)
                    metrics.setReady(false)
                    failures += 1
                    let delay = Self.backoff(failures)
                    logger.warning(
                        "polling failed; trying again",
                        metadata: ["error": "\(error)", "delay_ms": "\(delay.wholeMilliseconds)"])
                    await wakeup.wait(timeout: delay)
                    continue
                }
                for job in jobs {
                    taken += 1
                    running.wrappingAdd(1, ordering: .acquiringAndReleasing)
                    group.addTask {
                        await self.runAndReport(job)
                        self.running.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                        wakeup.signal()
                    }
                }
                if jobs.isEmpty { await wakeup.wait(timeout: Self.jittered(settings.pollInterval)) }
            }
            metrics.setReady(false)
            if shutdown.count > 0 { await drain() }
            await group.waitForAll()
        }
        metricsServer?.stop()
        audit.lifecycle(.stop, [("reason", shutdown.count > 0 ? "signal" : "once")])
        if owed.load(ordering: .acquiring) { return .owed }
        return onceOutcome.withLock { $0 } ?? .stopped
    }

    // MARK: - Take

    /// Polls for at most `max` jobs and acknowledges each; returns those now this worker's.
    private func take(max: Int) async throws(CodePipelineError) -> [TakenJob] {
        if settings.thirdParty { return try await takeThirdParty(max: max) }
        let secrets = secretConfiguration.withLock { $0 }
        let polled = try await client.pollForJobs(
            settings.actionType, maxBatchSize: max, query: settings.query, revealing: secrets)
        metrics.polled(polled.isEmpty ? .empty : .jobs)
        var jobs: [TakenJob] = []
        for job in polled {
            let id: JobID
            do throws(CodePipelineError) {
                id = try JobID(job.details.jobId, kind: .custom)
            } catch {
                logger.warning("a polled job's id is not a job id; left alone", metadata: ["error": "\(error)"])
                continue
            }
            if let taken = await acknowledge(TakenJob(id: id, details: job.details), nonce: job.nonce) {
                jobs.append(taken)
            }
        }
        return jobs
    }

    private func takeThirdParty(max: Int) async throws(CodePipelineError) -> [TakenJob] {
        let listed = try await client.pollForThirdPartyJobs(settings.actionType, maxBatchSize: max)
        metrics.polled(listed.isEmpty ? .empty : .jobs)
        var jobs: [TakenJob] = []
        for reference in listed {
            let jobAudit = audit.forJob(reference.jobId)
            guard let token = clientTokens[reference.clientId] else {
                jobAudit.lifecycle(.jobDropped, [("reason", "no_client_token"), ("client_id", reference.clientId)])
                metrics.dropped(.noClientToken)
                continue
            }
            do throws(CodePipelineError) {
                let id = try JobID(reference.jobId, kind: .thirdParty)
                let job = try await client.thirdPartyJob(
                    id, clientToken: token, revealing: secretConfiguration.withLock { $0 })
                let taken = TakenJob(id: id, details: job.details, clientToken: token, clientId: reference.clientId)
                if let taken = await acknowledge(taken, nonce: job.nonce) { jobs.append(taken) }
            } catch {
                jobAudit.lifecycle(.jobDropped, [("reason", "details_failed"), ("error", error.code.rawValue)])
                metrics.dropped(.detailsFailed)
            }
        }
        return jobs
    }

    /// Journals the job, then acknowledges it: InProgress makes it this worker's; anything else
    /// lets it go, audited, never reported.
    private func acknowledge(_ job: TakenJob, nonce: Nonce) async -> TakenJob? {
        let jobAudit = audit.forJob(job.id.value)
        var entry = JournalEntry(
            jobId: job.id.value, thirdParty: job.clientToken != nil, clientId: job.clientId, phase: .acknowledging,
            nonce: nonce.value)
        do throws(JobCredsError) {
            try journal.record(entry)
        } catch {
            jobAudit.lifecycle(.jobDropped, [("reason", "journal_failed"), ("message", error.message)])
            metrics.dropped(.journalFailed)
            return nil
        }
        let reason: WorkerMetrics.DropReason
        var status: JobStatus?
        do throws(CodePipelineError) {
            status = try await client.observed(by: jobAudit.upstream).acknowledgeJob(
                job.id, nonce: nonce, clientToken: job.clientToken)
            if status == .inProgress {
                entry.phase = .acknowledged
                entry.nonce = nil
                do throws(JobCredsError) { try journal.record(entry) } catch {
                    logger.error("cannot journal the acknowledged job", metadata: ["error": "\(error)"])
                }
                jobAudit.lifecycle(
                    .jobAcknowledged,
                    [("worker_id", settings.workerId), ("kind", job.clientToken == nil ? "custom" : "third-party")])
                return job
            }
            reason = .status
        } catch {
            reason = .init(acknowledgeFailure: error)
        }
        journal.remove(job.id.value)
        jobAudit.lifecycle(.jobDropped, [("reason", reason.rawValue), ("status", status?.rawValue)])
        metrics.dropped(reason)
        return nil
    }

    // MARK: - Run and report

    private func runAndReport(_ job: TakenJob) async {
        let jobAudit = audit.forJob(job.id.value)
        let base = JournalEntry(
            jobId: job.id.value, thirdParty: job.clientToken != nil, clientId: job.clientId, phase: .started)
        let (outcome, cleanup) = await executor.run(
            job, audit: jobAudit, secretConfiguration: secretConfiguration.withLock { $0 }
        ) { [journal, logger] session, uid in
            var entry = base
            entry.session = session
            entry.uid = uid
            do throws(JobCredsError) { try journal.record(entry) } catch {
                logger.error("cannot journal the started build", metadata: ["error": "\(error)"])
            }
        }
        let result = ResultMapping.result(
            outcome, jobId: job.id.value, workerId: settings.workerId, thirdParty: job.clientToken != nil)
        if case .succeeded(let contents, _) = outcome, job.clientToken != nil, !contents.outputVariables.isEmpty {
            logger.warning(
                "the build wrote output variables, which a third-party action cannot have; they are not sent",
                metadata: ["job_id": "\(job.id.value)"])
        }
        var finished = base
        finished.phase = .finished
        finished.result = result
        do throws(JobCredsError) { try journal.record(finished) } catch {
            logger.error("cannot journal the result; reporting it anyway", metadata: ["error": "\(error)"])
        }
        await report(result, for: job.id, clientToken: job.clientToken, audit: jobAudit)
        cleanup()
        if settings.once {
            onceOutcome.withLock { exit in
                if case .success = result { exit = .succeeded } else { exit = .failed }
            }
        }
    }

    /// Sends `result` until CodePipeline takes it or says the job is over; forgets the job then.
    private func report(_ result: JobResult, for id: JobID, clientToken: ClientToken?, audit jobAudit: AuditLog) async {
        var result = result
        var attempt = 1
        let client = client.observed(by: jobAudit.upstream)
        while true {
            let failureType: String? = if case .failure(let failure) = result { failure.type.rawValue } else { nil }
            let outcome: WorkerMetrics.Outcome
            do throws(CodePipelineError) {
                try await client.putJobResult(id, result, clientToken: clientToken)
                outcome = failureType == nil ? .succeeded : .failed
            } catch  where error.code == .invalidJobState || error.code == .jobNotFound {
                outcome = .over
            } catch  where error.code == .outputVariablesTooLarge {
                result = .failure(
                    .init(.configurationError, "CodePipeline refused the build's output variables as too large"))
                attempt += 1
                continue
            } catch {
                let delay = Self.backoff(attempt)
                jobAudit.lifecycle(
                    .reportRetry, [("reason", error.code.rawValue)],
                    numbers: [("attempt", attempt), ("delay_ms", Int(delay.wholeMilliseconds))])
                guard await pause(delay) else {
                    logger.warning(
                        "stopped before the result got through; the next start sends it",
                        metadata: ["job_id": "\(id.value)", "journal": "\(journal.directory)"])
                    owed.store(true, ordering: .releasing)
                    return
                }
                attempt += 1
                continue
            }
            jobAudit.lifecycle(
                .jobReported, [("outcome", outcome.rawValue), ("failure_type", failureType)],
                numbers: [("attempts", attempt)])
            let type: FailureType? = if case .failure(let failure) = result { failure.type } else { nil }
            metrics.reported(outcome, type, attempts: attempt)
            journal.remove(id.value)
            return
        }
    }

    /// Waits `delay`, in steps of a second; false as soon as a second stop is asked for.
    private func pause(_ delay: Duration) async -> Bool {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline {
            if shutdown.count >= 2 { return false }
            try? await Task.sleep(for: min(.seconds(1), deadline - ContinuousClock.now))
        }
        return true
    }

    // MARK: - Restart and stop

    /// What the journal says is owed: a result not yet sent, or SystemUnavailable for a build
    /// this worker lost (whatever is left of it killed first).
    private func recover() async {
        let (entries, unreadable) = journal.entries()
        for path in unreadable {
            logger.error(
                "a journal entry cannot be read; its job is left to CodePipeline's timeout",
                metadata: ["path": "\(path)"])
        }
        for entry in entries {
            let jobAudit = audit.forJob(entry.jobId)
            let token = entry.clientId.flatMap { clientTokens[$0] }
            guard let id = try? JobID(entry.jobId, kind: entry.thirdParty ? .thirdParty : .custom),
                !entry.thirdParty || token != nil
            else {
                jobAudit.lifecycle(.jobDropped, [("reason", "journal_unusable")])
                metrics.dropped(.journalUnusable)
                journal.remove(entry.jobId)
                continue
            }
            if entry.phase == .acknowledging, await !stillOurs(entry, id: id, clientToken: token, audit: jobAudit) {
                journal.remove(entry.jobId)
                continue
            }
            let result: JobResult
            switch entry.phase {
            case .finished where entry.result != nil:
                result = entry.result ?? ResultMapping.lostBuild(jobId: entry.jobId, workerId: settings.workerId)
            default:
                Self.killLeftovers(session: entry.session, uid: entry.uid)
                result = ResultMapping.lostBuild(jobId: entry.jobId, workerId: settings.workerId)
            }
            await report(result, for: id, clientToken: token, audit: jobAudit)
            let name = Directories.safeName(entry.jobId)
            Trees.remove(settings.workDirectory + "/" + name)
            Trees.remove(settings.stateDirectory + "/run/" + name)
        }
    }

    /// For a job whose acknowledge was in flight when the worker stopped: the same acknowledge
    /// again, with the same nonce. InProgress means the first one landed and the job is this
    /// worker's (its build never started); anything else means it is not, and nothing is reported.
    private func stillOurs(
        _ entry: JournalEntry, id: JobID, clientToken: ClientToken?, audit jobAudit: AuditLog
    ) async -> Bool {
        let reason: WorkerMetrics.DropReason
        do throws(CodePipelineError) {
            let nonce = try Nonce(entry.nonce ?? "")
            let status = try await client.observed(by: jobAudit.upstream).acknowledgeJob(
                id, nonce: nonce, clientToken: clientToken)
            if status == .inProgress { return true }
            reason = .status
        } catch {
            reason = .init(acknowledgeFailure: error)
        }
        jobAudit.lifecycle(.jobDropped, [("reason", reason.rawValue), ("after", "restart")])
        metrics.dropped(reason)
        return false
    }

    /// Kills a lost build: every process of its own uid, or its session if that still exists
    /// under that id (getsid), so that no unrelated process group is ever signalled.
    private static func killLeftovers(session: Int32?, uid: UInt32?) {
        if let uid { _ = BuildProcess.killUser(uid) }
        if let session, session > 1, getsid(session) == session { killpg(session, SIGKILL) }
    }

    /// Running builds go on for up to the drain timeout, or until a second signal; then they
    /// are stopped (and reported `SystemUnavailable`).
    private func drain() async {
        guard running.load(ordering: .acquiring) > 0 else { return }
        logger.notice(
            "stopping: the running builds may finish", metadata: ["drain_timeout": "\(settings.drainTimeout)"])
        let deadline = ContinuousClock.now + settings.drainTimeout
        while running.load(ordering: .acquiring) > 0, shutdown.count < 2, ContinuousClock.now < deadline {
            await shutdown.drainWakeup.wait(timeout: min(.seconds(1), deadline - ContinuousClock.now))
        }
        executor.stopAll()
    }

    /// Which configuration properties the action type declares secret: their values are
    /// scrubbed from everything that leaves the worker. Until ListActionTypes answers, no job
    /// is taken.
    private func learnSecretProperties() async {
        var failures = 0
        while shutdown.count == 0 {
            do throws(CodePipelineError) {
                let declared = try await client.actionTypeDeclaration(settings.actionType)
                let secret = declared.map { $0.properties.subtracting($0.nonSecretProperties) } ?? []
                secretConfiguration.withLock { $0 = secret }
                return
            } catch {
                failures += 1
                let delay = Self.backoff(failures)
                logger.warning(
                    "cannot learn the action type's secret properties (ListActionTypes); trying again",
                    metadata: ["error": "\(error)", "delay_ms": "\(delay.wholeMilliseconds)"])
                await shutdown.wakeup.wait(timeout: delay)
            }
        }
    }

    /// 1 s, 2 s, 4 s … at most 5 minutes, jittered ±20 %.
    static func backoff(_ failures: Int) -> Duration {
        jittered(Backoff(base: .seconds(1), cap: longestBackoff).step(failures))
    }

    /// `interval` ±20 %.
    static func jittered(_ interval: Duration) -> Duration {
        interval * Double.random(in: 0.8...1.2)
    }
}
