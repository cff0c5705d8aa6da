import AWSSigning
import CodePipeline
import Dispatch
import HTTPTransport
import JobCreds
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A hostile CodePipeline, end to end up to what the sidecar serves. The input's first line is
/// the `Date` header of a 403 `InvalidSignatureException` (the clock-skew correction learns from
/// it, and the retry is signed at the corrected time); the rest is the body of the 200 that
/// follows. The client must return details or throw a `CodePipelineError`, never crash; details
/// it returns are rendered as the sidecar renders them (credentials, `Expiration`, the
/// instance-metadata document, the audit line), which must not crash either and must write a
/// four-digit-year `Expiration`. The same two answers then go to the job worker's calls
/// (`PollForJobs`, `AcknowledgeJob`, the third-party details with their nonce): answers or
/// `CodePipelineError`s, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let split = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
    let date = String(decoding: bytes[..<split], as: UTF8.self)
    let body = Array(bytes[min(bytes.count, split + 1)...])
    let transport = ClosureTransport { _ throws(HTTPTransportError) in Answers.shared.next(date: date, body: body) }
    Answers.shared.reset()
    guard let endpoint = EndpointURL("https://codepipeline.us-east-1.amazonaws.com") else { fatalError("the endpoint") }
    let client = CodePipelineClient(
        transport: transport, identity: Worker(), region: "us-east-1", endpoint: endpoint,
        retry: RetryPolicy(maxAttempts: 3, sleep: { _ in }), logger: quiet)
    let done = DispatchSemaphore(value: 0)
    Task {
        defer { done.signal() }
        await worker(client)
        Answers.shared.reset()
        guard
            let details = try? await client.getJobDetails(
                try JobID("f4f4ff82-2d11-4b3c-9e2d-0123456789ab", kind: .custom))
        else { return }
        let snapshot = CredentialSnapshot(details: details, fetchedAt: Date(), assumedLifetime: .seconds(900))
        let served = snapshot.credentialsBody.copy()
        precondition(hasFourDigitYearExpiration(served), "an Expiration that is not YYYY-MM-DDTHH:MM:SSZ")
        _ = snapshot.metadataBody.copy()
        AuditLog(sink: Discard(), clock: SystemWallClock(), jobId: "job").refresh(.stored(snapshot, first: true))
    }
    done.wait()
    return 0
}

/// The job worker's calls on the same answers.
func worker(_ client: CodePipelineClient) async {
    let type = ActionTypeID(category: "Build", owner: "Custom", provider: "JobCredsTest", version: "1")
    Answers.shared.reset()
    _ = try? await client.pollForJobs(type, maxBatchSize: 8, revealing: ["ApiKey"])
    guard let id = try? JobID("f4f4ff82-2d11-4b3c-9e2d-0123456789ab", kind: .custom),
        let nonce = try? Nonce("n-1"), let token = try? ClientToken("t")
    else { fatalError("the fixed ids") }
    Answers.shared.reset()
    _ = try? await client.acknowledgeJob(id, nonce: nonce)
    Answers.shared.reset()
    _ = try? await client.thirdPartyJob(try JobID("partner-job-42", kind: .thirdParty), clientToken: token)
    Answers.shared.reset()
    _ = try? await client.pollForThirdPartyJobs(type, maxBatchSize: 8)
}

/// The client's warnings (a retry, a skew correction) are not what is tested here.
let quiet = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

/// The first call is refused for skew with the input's `Date`; every later one gets the body.
final class Answers: Sendable {
    static let shared = Answers()
    private let calls = Mutex(0)

    func reset() { calls.withLock { $0 = 0 } }

    func next(date: String, body: [UInt8]) -> HTTPResponse {
        let call = calls.withLock {
            $0 += 1
            return $0
        }
        if call == 1 {
            return HTTPResponse(
                status: 403, headers: [("Date", date), ("x-amzn-RequestId", "req-1")],
                body: #"{"__type":"InvalidSignatureException","message":"Signature expired"}"#)
        }
        return HTTPResponse(status: 200, headers: [("x-amzn-RequestId", "req-2")], body: body)
    }
}

/// Whether `body` holds `"Expiration":"YYYY-MM-DDTHH:MM:SSZ"`.
func hasFourDigitYearExpiration(_ body: [UInt8]) -> Bool {
    let key = Array(#""Expiration":""#.utf8)
    let shape = Array("dddd-dd-ddTdd:dd:ddZ\"".utf8)
    guard let start = (0...max(0, body.count - key.count)).first(where: { body[$0...].starts(with: key) }) else {
        return false
    }
    let value = body[(start + key.count)...]
    guard value.count >= shape.count else { return false }
    return zip(shape, value).allSatisfy { expected, byte in
        expected == UInt8(ascii: "d") ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : expected == byte
    }
}

struct Worker: CredentialsSource {
    func credentials() async throws -> Credentials {
        Credentials(accessKeyId: "AKIAWORKER", secretAccessKey: "worker-secret", sessionToken: nil)
    }
}

struct Discard: AuditSink {
    func write(line: [UInt8]) -> Bool { true }
}
