import AWSSigning
import JobCreds
import Synchronization
import Testing

@Suite struct MetadataSessionsTests {
    final class Uptime: Sendable {
        let now = Mutex(Duration.seconds(100))
        var clock: MonotonicClock { MonotonicClock { self.now.withLock { $0 } } }
        func advance(_ duration: Duration) { now.withLock { $0 += duration } }
    }

    @Test func aTokenIsValidUntilItsTTLAndOnlyWhereItWasIssued() throws {
        let uptime = Uptime()
        let sessions = MetadataSessions(uptime: uptime.clock)
        let token = try sessions.issue(ttl: 60)
        let another = try sessions.issue(ttl: 60)
        #expect(token.count == 64 && token != another)
        #expect(sessions.isValid(token))
        #expect(!sessions.isValid(String(token.reversed())) && !sessions.isValid(""))
        #expect(!MetadataSessions(uptime: uptime.clock).isValid(token))
        uptime.advance(.seconds(59))
        #expect(sessions.isValid(token))
        uptime.advance(.seconds(1))
        #expect(!sessions.isValid(token))
    }

    @Test func theTTLIsClampedToTheServicesLimits() throws {
        let uptime = Uptime()
        let sessions = MetadataSessions(uptime: uptime.clock)
        let long = try sessions.issue(ttl: 1_000_000)
        let short = try sessions.issue(ttl: 0)
        uptime.advance(.milliseconds(999))
        #expect(sessions.isValid(short))
        uptime.advance(.seconds(21599))
        #expect(!sessions.isValid(short) && sessions.isValid(long))
        uptime.advance(.seconds(1))
        #expect(!sessions.isValid(long))
    }

    /// A flood of PUTs cannot grow the store: past its capacity the token expiring first goes.
    @Test func theStoreIsBounded() throws {
        let uptime = Uptime()
        let sessions = MetadataSessions(capacity: 8, uptime: uptime.clock)
        let first = try sessions.issue(ttl: 10)
        let kept = try sessions.issue(ttl: 21600)
        for _ in 0..<100 { _ = try sessions.issue(ttl: 600) }
        #expect(sessions.count == 8)
        #expect(!sessions.isValid(first) && sessions.isValid(kept))
        uptime.advance(.seconds(601))
        _ = try sessions.issue(ttl: 60)
        #expect(sessions.count == 2)
    }
}
