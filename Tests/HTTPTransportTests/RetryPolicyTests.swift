import HTTPTransport
import TestSupport
import Testing

@Suite struct RetryPolicyTests {
    @Test func backoffIsExponentialCappedAndJittered() {
        let top = RetryPolicy(base: .milliseconds(100), cap: .seconds(2), random: { 0.999_999 })
        let bottom = RetryPolicy(base: .milliseconds(100), cap: .seconds(2), random: { 0 })
        let ceilings = (1...8).map { top.delay(beforeRetry: $0) }
        #expect(ceilings[0] < .milliseconds(100) && ceilings[0] > .milliseconds(99))
        #expect(ceilings[1] > .milliseconds(199) && ceilings[1] < .milliseconds(200))
        #expect(ceilings[5...].allSatisfy { $0 < .seconds(2) && $0 > .milliseconds(1999) })
        #expect((1...8).allSatisfy { bottom.delay(beforeRetry: $0) == .zero })
    }

    @Test func stopsOnANonRetryableError() async {
        struct Failure: Error { var retryable: Bool }
        let sleeper = RecordingSleeper()
        let attempts = Counter()
        await #expect(throws: Failure.self) {
            try await sleeper.policy(maxAttempts: 5).run(shouldRetry: { (f: Failure) in f.retryable }) {
                (attempt) throws(Failure) in
                attempts.next()
                throw Failure(retryable: attempt < 2)
            }
        }
        #expect(attempts.count == 2)
        #expect(sleeper.recorded.count == 1)
    }

    @Test func aCancelledSleepEndsTheRetriesWithTheRealFailure() async {
        struct Failure: Error {}
        struct Cancelled: Error {}
        let attempts = Counter()
        let policy = RetryPolicy(maxAttempts: 5, sleep: { _ in throw Cancelled() })
        await #expect(throws: Failure.self) {
            try await policy.run(shouldRetry: { (_: Failure) in true }) { (_) throws(Failure) in
                attempts.next()
                throw Failure()
            }
        }
        #expect(attempts.count == 1)
    }
}
