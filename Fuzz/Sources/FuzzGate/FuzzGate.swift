import AWSSigning
import CodePipeline
import Foundation
import HTTPCore
import JobCreds
import MicroHTTPServer

/// Feeds arbitrary requests (method, path, query, headers, body length, all from the input) to the
/// audited layer: the request gate, the router and the audit line. Every answer must be JSON,
/// every error a JSON error; the secret key may reach an answer only for an authorised GET of
/// /v1/credentials, and the session token besides only inside a presigned URL for one of the
/// job's artifacts.
struct FixedClock: WallClock {
    let now = Date(timeIntervalSince1970: 1_764_000_000)
}

final class NullSink: AuditSink {
    func write(line: [UInt8]) -> Bool { true }
}

let secret = "FUZZ-SECRET-VALUE"
let sessionToken = "FUZZ-SESSION-TOKEN"
let layer: AuditedLayer = {
    let cache = CredentialCache()
    cache.store(
        CredentialSnapshot(
            details: JobDetails(
                jobId: "job", accountId: "1",
                artifactCredentials: Credentials(
                    accessKeyId: "ASIA", secretAccessKey: secret, sessionToken: sessionToken),
                inputArtifacts: [Artifact(name: "in", revision: nil, bucket: "bucket", key: "job/in/src.zip")],
                outputArtifacts: [Artifact(name: "out", revision: nil, bucket: "bucket", key: "job/out/out.zip")],
                encryptionKey: EncryptionKey(id: "arn:aws:kms:us-east-1:1:key/k", type: "KMS"),
                pipelineContext: nil),
            fetchedAt: FixedClock().now, assumedLifetime: .seconds(900)))
    let layer = AuditedLayer(
        router: SidecarRouter(settings: RoutingSettings(s3: S3Endpoint(region: "us-east-1"))), cache: cache,
        tokens: TokenGrants([
            TokenGrant(label: "token", scopes: TokenScope.unscoped, token: Array("the-token".utf8)),
            TokenGrant(label: "steps", scopes: [.download, .upload], token: Array("steps-token".utf8)),
        ]),
        audit: AuditLog(sink: NullSink(), clock: FixedClock(), jobId: "job"), metrics: SidecarMetrics(),
        clock: FixedClock())
    var gate = GateSettings()
    gate.ratePerSecond = 0
    layer.install(RequestGate(host: "127.0.0.1", port: 9911, settings: gate))
    return layer
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let method = lines.isEmpty ? "" : lines.removeFirst()
    let target = lines.isEmpty ? "" : lines.removeFirst()
    let path = String(target.prefix { $0 != "?" })
    let query = target.dropFirst(path.count + 1).split(separator: "&").map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1)
        return QueryItem(name: String(parts.first ?? ""), value: parts.count > 1 ? String(parts[1]) : "")
    }
    let headers = HTTPHeaders(
        lines.map { line -> HTTPHeaders.Field in
            let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
            return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
        })
    let request = ServerRequest(
        method: method, path: path, headers: headers, query: query, bodyLength: size % 3 == 0 ? 0 : size)
    let response = layer.respond(to: request)
    let body = String(decoding: response.body, as: UTF8.self)
    precondition((200...599).contains(response.status))
    precondition(response.headers.contains { $0.name == "Content-Type" && $0.value == "application/json" })
    if body.contains(secret) {
        // Only the one allowed request shape gets the secret.
        precondition(response.status == 200 && path == "/v1/credentials" && (method == "GET" || method == "HEAD"))
        precondition(request.header("Authorization") == "the-token")
        precondition(request.headerValues("Host").count == 1 && request.bodyLength == 0)
    }
    if body.contains(sessionToken) && !body.contains(secret) {
        // A presigned URL carries the session token: only for a job's artifact, only to a token
        // granted that direction.
        precondition(response.status == 200 && request.header("Authorization") == "steps-token")
        precondition(
            (path == "/v1/artifacts/in/download"
                && body.contains("https://bucket.s3.us-east-1.amazonaws.com/job/in/src.zip?"))
                || (path == "/v1/artifacts/out/upload"
                    && body.contains("https://bucket.s3.us-east-1.amazonaws.com/job/out/out.zip?"))
        )
    }
    if response.status >= 400 {
        precondition(body.hasPrefix("{\"code\":"), "not a JSON error: \(body)")
    }
    return 0
}
