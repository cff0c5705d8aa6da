import AWSSigning
import CodePipeline
import Foundation
import JobCreds
import Logging
import Synchronization
import TestSupport
import Testing

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
