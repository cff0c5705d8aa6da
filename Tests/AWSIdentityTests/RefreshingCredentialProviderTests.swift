import AWSIdentity
import AWSSigning
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite struct RefreshingCredentialProviderTests {
    /// A provider whose answers a test scripts; each fetch may wait for a release.
    final class ScriptedProvider: CredentialProvider {
        let name = "scripted"
        let fetches = Counter()
        let clock: ManualWallClock
        let lifetime: TimeInterval
        let failing = Mutex(false)
        let delay: Duration

        init(clock: ManualWallClock, lifetime: TimeInterval = 3600, delay: Duration = .zero) {
            self.clock = clock
            self.lifetime = lifetime
            self.delay = delay
        }

        func fetch() async throws(IdentityError) -> Credentials {
            let n = fetches.next()
            if delay > .zero { try? await Task.sleep(for: delay) }
            if failing.withLock({ $0 }) { throw IdentityError(.unreachable, provider: name, "down", isRetryable: true) }
            return Credentials(
                accessKeyId: "AKIA\(n)", secretAccessKey: "s", sessionToken: "t",
                expiration: clock.now.addingTimeInterval(lifetime))
        }
    }

    @Test func cachesUntilTheRefreshWindow() async throws {
        let clock = ManualWallClock()
        let source = ScriptedProvider(clock: clock)
        let cache = RefreshingCredentialProvider(source, clock: clock, refreshWindow: .seconds(300))
        #expect(try await cache.credentials().accessKeyId == "AKIA1")
        clock.advance(by: .seconds(3000))
        #expect(try await cache.credentials().accessKeyId == "AKIA1")
        clock.advance(by: .seconds(301))  // 299 s left: inside the window
        #expect(try await cache.credentials().accessKeyId == "AKIA2")
        #expect(source.fetches.count == 2)
    }

    @Test func concurrentCallersShareOneFetch() async throws {
        let clock = ManualWallClock()
        let source = ScriptedProvider(clock: clock, delay: .milliseconds(100))
        let cache = RefreshingCredentialProvider(source, clock: clock)
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.credentials().accessKeyId } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(keys) == ["AKIA1"])
        #expect(source.fetches.count == 1)
    }

    @Test func aFailedRefreshServesTheCachedOnesUntilTheyExpire() async throws {
        let clock = ManualWallClock()
        let logs = CapturedLogs()
        let source = ScriptedProvider(clock: clock)
        let cache = RefreshingCredentialProvider(source, clock: clock, logger: logs.logger())
        _ = try await cache.credentials()
        source.failing.withLock { $0 = true }
        clock.advance(by: .seconds(3500))
        #expect(try await cache.credentials().accessKeyId == "AKIA1")
        #expect(logs.all.contains { $0.contains("refresh failed") })
        clock.advance(by: .seconds(200))  // now past expiry
        await #expect(throws: IdentityError.self) { _ = try await cache.credentials() }
        source.failing.withLock { $0 = false }
        #expect(try await cache.credentials().accessKeyId == "AKIA4")
    }

    @Test func staticCredentialsAreFetchedOnce() async throws {
        let clock = ManualWallClock()
        let provider = try #require(
            try EnvironmentProvider.configured(in: ["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"]))
        let cache = RefreshingCredentialProvider(provider, clock: clock)
        clock.advance(by: .seconds(86_400 * 30))
        #expect(try await cache.credentials().accessKeyId == "AKIA")
    }
}
