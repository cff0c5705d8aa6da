import AWSIdentity
import AWSSigning
import CodePipeline
import HTTPTransport
import MicroHTTPServer

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Builds the audit log's JSON lines: one per request (denied ones included), one per upstream
/// call, one per lifecycle event. Only allowlisted values go in: never a secret access key,
/// session token, configuration value, continuation token, client token or the sidecar's token.
public struct AuditLog: Sendable {
    private let sink: any AuditSink
    private let clock: any WallClock
    private let jobId: String
    private let metrics: SidecarMetrics?

    /// Creates a log writing to `sink`; lines that cannot be written are counted in `metrics`.
    public init(sink: any AuditSink, clock: any WallClock, jobId: String, metrics: SidecarMetrics? = nil) {
        self.sink = sink
        self.clock = clock
        self.jobId = jobId
        self.metrics = metrics
    }

    /// What the sidecar decided about one request.
    public struct Decision: Sendable {
        public var requestId: String
        public var status: Int
        public var allowed: Bool
        public var reason: String
        public var accessKeyId: String?
        public var expiration: Date?
    }

    /// The line for one request; false if it could not be written.
    @discardableResult
    public func request(_ request: ServerRequest, _ decision: Decision) -> Bool {
        write([
            ("event", JSONText.quote("request")),
            ("request_id", JSONText.quote(decision.requestId)),
            ("client_addr", JSONText.quote(request.clientAddress)),
            ("client_port", String(request.clientPort)),
            ("method", JSONText.quote(JSONText.truncated(request.method, to: 16))),
            ("path", JSONText.quote(JSONText.truncated(request.path, to: 256))),
            ("status", String(decision.status)),
            ("decision", JSONText.quote(decision.allowed ? "allow" : "deny")),
            ("reason", JSONText.quote(decision.reason)),
            ("user_agent", request.header("User-Agent").map { JSONText.quote(JSONText.truncated($0, to: 256)) }),
            ("access_key_id", decision.accessKeyId.map(JSONText.quote)),
            ("expiration", decision.expiration.map { JSONText.quote(AWSDate.iso8601($0)) }),
        ])
    }

    /// The line for one upstream HTTP attempt.
    public func upstream(_ call: UpstreamCall) {
        write([
            ("event", JSONText.quote("upstream")),
            ("operation", JSONText.quote(call.operation)),
            ("attempt", String(call.attempt)),
            ("outcome", JSONText.quote(call.outcome)),
            ("http_status", call.httpStatus.map(String.init)),
            ("latency_ms", String(call.latency.wholeMilliseconds)),
            ("aws_request_id", call.requestId.map { JSONText.quote(JSONText.truncated($0, to: 128)) }),
        ])
    }

    /// A lifecycle line: `start`, `ready`, `refresh`, `refresh_failed`, `job_ended`, `stop`.
    public func lifecycle(_ event: String, _ fields: [(String, String?)] = []) {
        write([("event", JSONText.quote(event))] + fields.map { ($0.0, $0.1.map(JSONText.quote)) })
    }

    @discardableResult
    private func write(_ fields: [(String, String?)]) -> Bool {
        let written = sink.write(
            JSONText.object(
                [("time", JSONText.quote(Self.timestamp(clock.now)))] + fields + [("job_id", JSONText.quote(jobId))]))
        if !written { metrics?.auditWriteFailed() }
        return written
    }

    /// `2026-11-28T12:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let seconds = AWSDate.iso8601(date)
        let millis = Int((date.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        let padded = String(repeating: "0", count: 3 - String(millis).count) + String(millis)
        return seconds.dropLast() + "." + padded + "Z"
    }
}
