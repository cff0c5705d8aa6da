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

    @Test func credentialsUnderTheServedFloorAreFetchedSoThatTheyCanAlwaysSignAURL() {
        // 100 s credentials: 40-60 % of the 35 s above the 65 s signing floor, so a fresh set
        // arrives while the old one still signs URLs of 5 s or more.
        let policy = RefreshPolicy()
        #expect(policy.nextRefresh(for: snapshot(lifetime: .seconds(100)), now: now, random: 0) == .seconds(14))
        let latest = policy.nextRefresh(for: snapshot(lifetime: .seconds(100)), now: now, random: 0.999)
        #expect(latest > .seconds(20) && latest <= .seconds(21))
        #expect(
            ArtifactURL.lifetime(expiresAt: now.addingTimeInterval(100 - 21), lifetime: .seconds(900), now: now)?
                .seconds == 19)
    }

    @Test func retriesBackOffExponentiallyToACap() {
        let policy = RefreshPolicy()
        #expect(policy.retryDelay(afterFailures: 1, random: 0.999) <= .seconds(1))
        #expect(policy.retryDelay(afterFailures: 1, random: 0) == .milliseconds(500))
        #expect(policy.retryDelay(afterFailures: 3, random: 0) == .seconds(2))
        #expect(policy.retryDelay(afterFailures: 50, random: 0.999) <= .seconds(30))
    }
}
