import AWSSigning
import CodePipeline
import Foundation
import JobCreds
import Logging
import Synchronization
import TestSupport
import Testing

@Suite struct RefreshPolicyTests {
    let now = Date(timeIntervalSince1970: 1_764_000_000)

    func snapshot(lifetime: Duration = .seconds(900), expiration: Date? = nil) -> CredentialSnapshot {
        CredentialSnapshot(details: Samples.details(expiration: expiration), fetchedAt: now, assumedLifetime: lifetime)
    }

    @Test func fifteenMinuteCredentialsAreFetchedEveryFewMinutesKeepingTenMinutesServed() {
        let policy = RefreshPolicy()
        let earliest = policy.nextRefresh(for: snapshot(), now: now, random: 0)
        let latest = policy.nextRefresh(for: snapshot(), now: now, random: 0.999)
        #expect(earliest == .milliseconds(84_000))  // 40 % of the 210 s above the 11.5-minute floor
        #expect(latest > .seconds(125) && latest <= .seconds(126))
        // Whenever the next fetch happens, what is served then still has more than 10 minutes.
        #expect(900 - 126 > 600)
    }

    @Test func longUpstreamExpiryIsStillRefreshedAtLeastEveryTenMinutes() {
        let long = snapshot(expiration: now.addingTimeInterval(6 * 3600))
        #expect(RefreshPolicy().nextRefresh(for: long, now: now, random: 0.5) == .seconds(600))
    }

    @Test func shortCredentialsAreFetchedAtHalfTheirRemainingLife() {
        #expect(
            RefreshPolicy().nextRefresh(for: snapshot(lifetime: .seconds(10)), now: now, random: 0.5) == .seconds(5))
        #expect(RefreshPolicy().nextRefresh(for: snapshot(lifetime: .seconds(1)), now: now, random: 0) == .seconds(1))
    }

    @Test func retriesBackOffExponentiallyToACap() {
        let policy = RefreshPolicy()
        #expect(policy.retryDelay(afterFailures: 1, random: 0.999) <= .seconds(1))
        #expect(policy.retryDelay(afterFailures: 1, random: 0) == .milliseconds(500))
        #expect(policy.retryDelay(afterFailures: 3, random: 0) == .seconds(2))
        #expect(policy.retryDelay(afterFailures: 50, random: 0.999) <= .seconds(30))
    }
}

@Suite struct CredentialCacheTests {
    let now = Date(timeIntervalSince1970: 1_764_000_000)

    @Test func theStateMachine() {
        let cache = CredentialCache()
        guard case .empty = cache.current else { Issue.record("not empty"); return }
        guard case .unavailable = cache.lookup(at: now) else { Issue.record("served from empty"); return }
        cache.beginFetch()
        guard case .fetching = cache.current else { Issue.record("not fetching"); return }
        let first = CredentialSnapshot(details: Samples.details(), fetchedAt: now, assumedLifetime: .seconds(900))
        cache.store(first)
        guard case .fresh = cache.current else { Issue.record("not fresh"); return }
        cache.beginFetch()
        guard case .refreshing = cache.current, case .serve = cache.lookup(at: now) else {
            Issue.record("refreshing does not serve")
            return
        }
        cache.fetchFailed(reason: "network")
        guard case .failed(let kept?, _) = cache.current, kept.details == first.details else {
            Issue.record("failure dropped the snapshot")
            return
        }
        #expect(first.servableUntil == now.addingTimeInterval(840))
        guard case .serve = cache.lookup(at: now.addingTimeInterval(839)) else { Issue.record("expired early"); return }
        guard case .unavailable = cache.lookup(at: now.addingTimeInterval(840)) else {
            Issue.record("served credentials about to expire")
            return
        }
        cache.endJob(reason: "gone")
        cache.store(first)
        cache.beginFetch()
        guard case .jobEnded = cache.lookup(at: now) else { Issue.record("served after the job ended"); return }
    }
}

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
            fetch: { () throws(CodePipelineError) in try script.next() }, cache: cache,
            policy: RefreshPolicy(), clock: clock, audit: AuditLog(sink: sink, clock: clock, jobId: "job"),
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
                return Samples.details(keyId: "ASIA\(n)")
            }, cache: cache, policy: RefreshPolicy(assumedLifetime: lifetime), clock: clock,
            audit: AuditLog(sink: MemoryAuditSink(), clock: clock, jobId: "job"), logger: CapturedLogs().logger(),
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

@Suite struct CredentialSnapshotTests {
    /// The served `Expiration` is written to the second; credentials are never served once the
    /// time they declare has passed, whatever the fraction of the fetch time.
    @Test(arguments: [0.0, 0.3, 0.7, 0.999])
    func neverServedPastTheDeclaredExpiration(_ fraction: Double) throws {
        for lifetime in [Duration.seconds(6), .seconds(900)] {
            let fetchedAt = Date(timeIntervalSince1970: 1_764_000_000 + fraction)
            let snapshot = CredentialSnapshot(
                details: Samples.details(), fetchedAt: fetchedAt, assumedLifetime: lifetime)
            let body = try JSONSerialization.jsonObject(with: Data(snapshot.credentialsBody.copy())) as? [String: Any]
            let text = try #require(body?["Expiration"] as? String)
            let declared = try #require(AWSDate.parseISO8601(text))
            #expect(snapshot.servableUntil <= declared)
            #expect(snapshot.expiresAt == declared)
        }
    }
}
