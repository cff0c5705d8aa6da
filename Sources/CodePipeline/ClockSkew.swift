import AWSSigning
import HTTPTransport
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The offset between the local clock and AWS's, learnt from the `Date` of an answer that refused
/// a signature as expired (as the SDKs do), and added to every signing time after.
///
/// Thread-safety: a `Mutex`.
final class ClockSkew: Sendable {
    /// The error codes AWS answers for a signature made with a skewed clock.
    static let codes: Set<String> = [
        "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired", "RequestTimeTooSkewed",
        "RequestInTheFuture", "AuthFailure",
    ]
    /// Offsets smaller than this are not worth correcting (AWS allows 5 minutes).
    static let threshold: TimeInterval = 60

    private let seconds = Mutex<TimeInterval>(0)

    /// Seconds to add to the local clock.
    var offset: TimeInterval { seconds.withLock { $0 } }

    /// Learns the offset from a refused `response`.
    /// - Returns: true if the refusal was for skew and the offset changed (a retry may succeed).
    func correct(from response: HTTPResponse, upstreamCode: String?, now: Date) -> Bool {
        guard let upstreamCode, Self.codes.contains(upstreamCode),
            let serverDate = response.header("Date").flatMap(AWSDate.parseHTTPDate)
        else { return false }
        let measured = serverDate.timeIntervalSince(now)
        return seconds.withLock { offset in
            guard abs(measured - offset) > Self.threshold else { return false }
            offset = measured
            return true
        }
    }
}
