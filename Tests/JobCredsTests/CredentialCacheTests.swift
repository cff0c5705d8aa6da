import AWSSigning
import CodePipeline
import Foundation
import JobCreds
import Logging
import Synchronization
import TestSupport
import Testing

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
