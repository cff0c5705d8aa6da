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

    /// The line for one request; false if it could not be written. Built straight into bytes:
    /// this runs for every request.
    @discardableResult
    public func request(_ request: ServerRequest, _ decision: Decision) -> Bool {
        write { line in
            line.string("event", "request")
            line.string("request_id", decision.requestId)
            line.string("client_addr", request.clientAddress)
            line.integer("client_port", request.clientPort)
            line.string("method", JSONText.truncated(request.method, to: 16))
            line.string("path", JSONText.truncated(request.path, to: 256))
            line.integer("status", decision.status)
            line.string("decision", decision.allowed ? "allow" : "deny")
            line.string("reason", decision.reason)
            line.string("user_agent", request.header("User-Agent").map { JSONText.truncated($0, to: 256) })
            line.string("access_key_id", decision.accessKeyId)
            if let expiration = decision.expiration {
                line.unescaped("expiration") { AWSDate.appendISO8601(expiration, milliseconds: false, to: &$0) }
            }
        }
    }

    /// The line for one upstream HTTP attempt.
    public func upstream(_ call: UpstreamCall) {
        write { line in
            line.string("event", "upstream")
            line.string("operation", call.operation)
            line.integer("attempt", call.attempt)
            line.string("outcome", call.outcome)
            if let status = call.httpStatus { line.integer("http_status", status) }
            line.integer("latency_ms", Int(call.latency.wholeMilliseconds))
            line.string("aws_request_id", call.requestId.map { JSONText.truncated($0, to: 128) })
        }
    }

    /// A lifecycle line: `start`, `ready`, `refresh`, `refresh_failed`, `job_ended`, `stop`.
    public func lifecycle(_ event: String, _ fields: [(String, String?)] = []) {
        write { line in
            line.string("event", event)
            for (key, value) in fields { line.string(key, value) }
        }
    }

    /// One line: the time, the fields `body` writes, the job id.
    @discardableResult
    private func write(_ body: (inout JSONText.ObjectWriter) -> Void) -> Bool {
        var line = JSONText.ObjectWriter(capacity: 384)
        let now = clock.now
        line.unescaped("time") { AWSDate.appendISO8601(now, milliseconds: true, to: &$0) }
        body(&line)
        line.string("job_id", jobId)
        let written = sink.write(line: line.finish())
        if !written { metrics?.auditWriteFailed() }
        return written
    }

    /// `2026-11-28T12:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        AWSDate.appendISO8601(date, milliseconds: true, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
