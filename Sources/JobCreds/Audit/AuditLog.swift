import AWSSigning
import CodePipeline
import MicroHTTPServer

/// Builds the audit log's JSON lines: one per request (denied ones included), one per upstream
/// call, one per lifecycle event (`AuditEvent` is the vocabulary). Only allowlisted values go in:
/// never a secret access key, session token, configuration value, continuation token, client
/// token or the sidecar's token.
public struct AuditLog: Sendable {
    private let sink: any AuditSink
    private let clock: any WallClock
    private let jobId: String?
    private let onWriteFailure: @Sendable () -> Void

    /// Creates a log writing to `sink`.
    /// - Parameter onWriteFailure: told of every line that could not be written (the metrics count them).
    public init(
        sink: any AuditSink, clock: any WallClock, jobId: String?,
        onWriteFailure: @escaping @Sendable () -> Void = {}
    ) {
        self.sink = sink
        self.clock = clock
        self.jobId = jobId
        self.onWriteFailure = onWriteFailure
    }

    /// The line for one request; false if it could not be written. Built straight into bytes:
    /// this runs for every request.
    /// - Parameter listener: the listener's name, for any but the credentials listener (`imds`).
    @discardableResult
    public func request(
        _ request: ServerRequest, requestId: String, status: Int, decision: Decision, listener: String? = nil
    ) -> Bool {
        write(.request) { line in
            Self.client(
                listener, requestId, request.clientAddress, request.clientPort, request.clientOwner, &line)
            line.string("method", JSONText.truncated(request.method, to: 16))
            line.string("path", JSONText.truncated(request.path, to: 256))
            line.integer("status", status)
            line.string("decision", decision.denial == nil ? "allow" : "deny")
            line.string("reason", decision.reason)
            line.string("user_agent", request.header("User-Agent").map { JSONText.truncated($0, to: 256) })
            line.string("token", decision.token)
            if let issued = decision.issued {
                line.string("artifact", issued.artifact)
                line.string("url_method", issued.method)
                line.string("bucket", issued.bucket)
                line.string("key", issued.key)
            }
            if let upload = decision.upload {
                line.string("artifact", upload.artifact)
                line.string("bucket", upload.bucket)
                line.string("key", upload.key)
                line.string("upload_id", JSONText.truncated(upload.id, to: 256))
                if let first = upload.firstPart { line.integer("first_part", first) }
                if let last = upload.lastPart { line.integer("last_part", last) }
            }
            line.string("access_key_id", decision.accessKeyId)
            if let expiration = decision.expiration {
                line.unescaped("expiration") { AWSDate.appendISO8601(expiration, milliseconds: false, to: &$0) }
            }
        }
    }

    /// The `request` line for a head refused before parsing: the method and target if the request
    /// line was well formed, the status and code it was answered with.
    public func refusedRequest(
        _ request: RefusedRequest, requestId: String, status: Int, code: DenialCode, listener: String? = nil
    ) {
        write(.request) { line in
            Self.client(listener, requestId, request.clientAddress, request.clientPort, request.owner, &line)
            line.string("method", request.line.map { JSONText.truncated($0.method, to: 16) })
            line.string("path", request.line.map { JSONText.truncated($0.target, to: 256) })
            line.integer("status", status)
            line.string("decision", "deny")
            line.string("reason", code.rawValue)
        }
    }

    /// The `request` line for a request libmicrohttpd answered on its own: no method or headers
    /// are known, only the target and the status it sent.
    public func unservedRequest(_ request: UnservedRequest, requestId: String, listener: String? = nil) {
        write(.request) { line in
            Self.client(listener, requestId, request.clientAddress, request.clientPort, request.owner, &line)
            line.string("path", JSONText.truncated(request.target, to: 256))
            line.integer("status", request.status)
            line.string("decision", "deny")
            line.string("reason", DenialCode.malformedRequest.rawValue)
        }
    }

    /// The line for a connection closed before any request on it was answered.
    public func connectionRefused(_ refusal: ConnectionRefusal) {
        write(.connectionRefused) { line in
            line.string("client_addr", refusal.clientAddress)
            line.integer("client_port", refusal.clientPort)
            Self.owner(refusal.owner, &line)
            line.string("reason", refusal.reason.rawValue)
        }
    }

    /// A request line's first fields: which listener, the request id, who asked.
    private static func client(
        _ listener: String?, _ requestId: String, _ address: String, _ port: Int, _ owner: ConnectionOwner,
        _ line: inout JSONText.ObjectWriter
    ) {
        line.string("listener", listener)
        line.string("request_id", requestId)
        line.string("client_addr", address)
        line.integer("client_port", port)
        Self.owner(owner, &line)
    }

    /// `client_uid`, the user owning the client's socket; where it could not be found,
    /// `"accounted_by":"address"`: its limits were counted by address.
    private static func owner(_ owner: ConnectionOwner, _ line: inout JSONText.ObjectWriter) {
        if let uid = owner.uid {
            line.integer("client_uid", Int(uid))
        } else {
            line.string("accounted_by", "address")
        }
    }

    /// The line for one upstream HTTP attempt.
    public func upstream(_ call: UpstreamCall) {
        write(.upstream) { line in
            line.string("operation", call.operation.rawValue)
            line.integer("attempt", call.attempt)
            line.string("outcome", call.outcome.rawValue)
            if let status = call.httpStatus { line.integer("http_status", status) }
            line.integer("latency_ms", Int(call.latency.wholeMilliseconds))
            line.string("aws_request_id", call.requestId.map { JSONText.truncated($0, to: 128) })
        }
    }

    /// The line for one fetch of the job's credentials: `ready`, `refresh`, `refresh_failed` or
    /// `job_ended`.
    public func refresh(_ event: RefreshEvent) {
        switch event {
        case .stored(let snapshot, let first):
            let credentials = snapshot.details.artifactCredentials
            lifecycle(
                first ? .ready : .refresh,
                [
                    ("access_key_id", credentials.accessKeyId), ("expiration", AWSDate.iso8601(snapshot.expiresAt)),
                    ("expiration_source", credentials.expiration == nil ? "assumed" : "upstream"),
                ])
        case .failed(let error):
            lifecycle(.refreshFailed, [("reason", error.code.rawValue), ("message", error.description)])
        case .jobEnded(let error):
            lifecycle(.jobEnded, [("reason", error.code.rawValue), ("message", error.message)])
        }
    }

    /// A lifecycle line: `event`, then `fields` (nil values left out), then `numbers`.
    public func lifecycle(_ event: AuditEvent, _ fields: [(String, String?)] = [], numbers: [(String, Int)] = []) {
        write(event) { line in
            for (key, value) in fields { line.string(named: key, value) }
            for (key, value) in numbers { line.integer(named: key, value) }
        }
    }

    /// The same log for another job's lines (the worker writes one log for all its jobs).
    public func forJob(_ jobId: String?) -> AuditLog {
        AuditLog(sink: sink, clock: clock, jobId: jobId, onWriteFailure: onWriteFailure)
    }

    /// One line: the time, the event, the fields `body` writes, the job id.
    @discardableResult
    private func write(_ event: AuditEvent, _ body: (inout JSONText.ObjectWriter) -> Void) -> Bool {
        var line = JSONText.ObjectWriter(capacity: 384)
        let now = clock.now
        line.unescaped("time") { AWSDate.appendISO8601(now, milliseconds: true, to: &$0) }
        line.string("event", event.rawValue)
        body(&line)
        line.string("job_id", jobId)
        let written = sink.write(line: line.finish())
        if !written { onWriteFailure() }
        return written
    }
}
