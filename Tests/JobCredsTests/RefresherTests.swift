import AWSSigning
import CodePipeline
import Foundation
import JobCreds
import Logging
import Synchronization
import TestSupport
import Testing

@Suite struct RefresherTests {
    final class Script: Sendable {
        let answers: Mutex<[Result<JobDetails, CodePipelineError>]>
        let calls = Counter()
        init(_ answers: [Result<JobDetails, CodePipelineError>]) { self.answers = Mutex(answers) }
        func next() throws(CodePipelineError) -> JobDetails {
            calls.next()
            let answer = answers.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
            return try answer.get()
        }
    }

    func make(
        _ script: Script, clock: ManualWallClock, sink: MemoryAuditSink, sleeps: RecordingSleeper
    )
        -> (Refresher, CredentialCache)
    {
        let cache = CredentialCache()
        let refresher = Refresher(
            fetch: { () throws(CodePipelineError) in Fetched(details: try script.next()) }, cache: cache,
            policy: RefreshPolicy(), clock: clock,
            observer: { [audit = AuditLog(sink: sink, clock: clock, jobId: "job")] in audit.refresh($0) },
            logger: CapturedLogs().logger(), random: { 0.5 },
            sleep: { duration in
                try await sleeps.policy().sleep(duration)
                clock.advance(by: duration)
            })
        return (refresher, cache)
    }

    @Test func fetchesFailsRecoversAndStopsWhenTheJobEnds() async throws {
        let clock = ManualWallClock()
        let sink = MemoryAuditSink()
        let sleeps = RecordingSleeper()
        let script = Script([
            .success(Samples.details(keyId: "ASIA1")),
            .failure(CodePipelineError(.unavailable, "HTTP 503")),
            .success(Samples.details(keyId: "ASIA2")),
            .failure(CodePipelineError(.jobNotFound, "gone")),
        ])
        let (refresher, cache) = make(script, clock: clock, sink: sink, sleeps: sleeps)
        await refresher.run()
        #expect(script.calls.count == 4)
        guard case .jobEnded = cache.current else {
            Issue.record("the job did not end")
            return
        }
        let events = sink.all.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
        }
        #expect(events == ["ready", "refresh_failed", "refresh", "job_ended"])
        // After a success: 50 % of the slack; after a failure: the first backoff step, jittered.
        #expect(sleeps.recorded == [.milliseconds(105_000), .milliseconds(750), .milliseconds(105_000)])
        for line in sink.all {
            #expect(!line.contains(Samples.canary))
        }
    }

    /// An answer whose credentials are already past serving is a failure: backed off like one
    /// and never stored over the valid credentials (issue 14, finding 2).
    @Test func expiredCredentialsFromUpstreamAreAFailureWithBackoff() async throws {
        let clock = ManualWallClock()
        let sink = MemoryAuditSink()
        let sleeps = RecordingSleeper()
        let past = clock.now.addingTimeInterval(-60)
        let script = Script([
            .success(Samples.details(keyId: "ASIA1")),
            .success(Samples.details(keyId: "ASIA2", expiration: past)),
            .success(Samples.details(keyId: "ASIA3", expiration: past)),
            .success(Samples.details(keyId: "ASIA4", expiration: past)),
            .failure(CodePipelineError(.jobNotFound, "gone")),
        ])
        let (refresher, cache) = make(script, clock: clock, sink: sink, sleeps: sleeps)
        #expect(await refresher.refreshOnce() == .stored)
        #expect(await refresher.refreshOnce() == .failed)
        #expect(cache.current.snapshot?.details.artifactCredentials.accessKeyId == "ASIA1")
        await refresher.run()
        // The backoff steps 1, 2 and 4 s at the midpoint of their jitter, not a second each.
        #expect(sleeps.recorded == [.milliseconds(750), .milliseconds(1500)])
        let events = sink.all.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
        }
        #expect(events == ["ready", "refresh_failed", "refresh_failed", "refresh_failed", "job_ended"])
    }

    /// Seeded (the worker's poll answer), the first fetch waits until the seed is due for a
    /// refresh instead of fetching at once.
    @Test func aSeededCacheIsRefreshedWhenDueNotAtOnce() async throws {
        let clock = ManualWallClock()
        let sleeps = RecordingSleeper()
        let script = Script([
            .success(Samples.details(keyId: "ASIA2")), .failure(CodePipelineError(.jobNotFound, "gone")),
        ])
        let (refresher, cache) = make(script, clock: clock, sink: MemoryAuditSink(), sleeps: sleeps)
        cache.store(
            CredentialSnapshot(
                details: Samples.details(keyId: "ASIA1"), fetchedAt: clock.now, assumedLifetime: .seconds(900)))
        await refresher.run(seeded: true)
        // 50 % of the seed's slack first, then the fetch (ASIA2), its own interval, the job's end.
        #expect(sleeps.recorded == [.milliseconds(105_000), .milliseconds(105_000)])
        #expect(script.calls.count == 2)
        #expect(cache.current.snapshot == nil)  // the job ended
    }

    /// Credentials that live 5 s are still servable (a tenth of their life held back): stored.
    @Test func shortLivedCredentialsAreStillStored() async throws {
        let clock = ManualWallClock()
        let script = Script([.success(Samples.details(expiration: clock.now.addingTimeInterval(5)))])
        let (refresher, cache) = make(script, clock: clock, sink: MemoryAuditSink(), sleeps: RecordingSleeper())
        #expect(await refresher.refreshOnce() == .stored)
        #expect(cache.current.snapshot != nil)
    }

    @Test func theServedExpirationComesFromUpstreamWhenGiven() async throws {
        let clock = ManualWallClock()
        let expiry = clock.now.addingTimeInterval(3600)
        let script = Script([.success(Samples.details(expiration: expiry))])
        let (refresher, cache) = make(script, clock: clock, sink: MemoryAuditSink(), sleeps: RecordingSleeper())
        #expect(await refresher.refreshOnce() == .stored)
        #expect(cache.current.snapshot?.expiresAt == expiry)
        let body = try #require(cache.current.snapshot?.credentialsBody)
        #expect(String(decoding: body.copy(), as: UTF8.self).contains("\"Expiration\":\"\(AWSDate.iso8601(expiry))\""))
    }
}

/// With the clock injected: whenever the next fetch comes due, the credentials served until then
/// still have more than 10 minutes left (botocore raises otherwise), across failures too.
@Suite struct ServedLifeTests {
    @Test(arguments: [Duration.seconds(900), .seconds(1800), .seconds(3600)])
    func servedCredentialsKeepMoreThanTenMinutes(_ lifetime: Duration) async {
        let clock = ManualWallClock()
        let cache = CredentialCache()
        let fetches = Counter()
        let lowest = Mutex(Double.infinity)
        let refresher = Refresher(
            fetch: { () throws(CodePipelineError) in
                // Every third fetch fails once, then the job ends after 40 fetches.
                let n = fetches.next()
                if n == 40 { throw CodePipelineError(.jobNotFound, "over") }
                if n % 3 == 0 { throw CodePipelineError(.unavailable, "HTTP 503") }
                return Fetched(details: Samples.details(keyId: "ASIA\(n)"))
            }, cache: cache, policy: RefreshPolicy(assumedLifetime: lifetime), clock: clock,
            observer: { _ in }, logger: CapturedLogs().logger(),
            random: { Double.random(in: 0..<1) },
            sleep: { duration in
                clock.advance(by: .seconds(Int64((Double(duration.components.seconds) + 0.999).rounded(.down))))
                if let snapshot = cache.current.snapshot {
                    let left = snapshot.expiresAt.timeIntervalSince(clock.now)
                    lowest.withLock { $0 = min($0, left) }
                }
            })
        await refresher.run()
        #expect(fetches.count == 40)
        #expect(lowest.withLock { $0 } > 600)
    }
}
