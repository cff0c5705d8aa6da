import AWSSigning
import Foundation
import JobCreds
import MicroHTTPServer

/// Feeds arbitrary bytes to the accept loop's check of a request head (`RequestHead.scan`), under
/// tight and real limits, and every refusal to the audited layer's answer. Asserts what the
/// server relies on: a complete head ends with its empty line within the limit and is the same
/// head whatever follows it; a head cut anywhere before its end is never complete; every refusal
/// is answered with a JSON error whose status is the reason's.
struct FixedClock: WallClock {
    let now = Date(timeIntervalSince1970: 1_764_000_000)
}

final class NullSink: AuditSink {
    func write(line: [UInt8]) -> Bool { true }
}

let layer = AuditedLayer(
    cache: CredentialCache(), tokens: TokenGrants([]),
    audit: AuditLog(sink: NullSink(), clock: FixedClock(), jobId: "job"), metrics: SidecarMetrics(),
    clock: FixedClock())
let limits = [RequestHead.Limits(bytes: 96, fields: 3), RequestHead.Limits(bytes: 8192, fields: 64)]
let end: [UInt8] = Array("\r\n\r\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    for limit in limits {
        switch RequestHead.scan(bytes, limits: limit) {
        case .complete(let length):
            precondition(length <= limit.bytes && length <= size, "a complete head past the limit")
            precondition(Array(bytes[(length - 4)..<length]) == end, "a complete head not ending in CRLF CRLF")
            let head = UnsafeRawBufferPointer(rebasing: bytes[..<length])
            precondition(RequestHead.scan(head, limits: limit) == .complete(length: length), "depends on what follows")
            let cut = UnsafeRawBufferPointer(rebasing: bytes[..<(length - 1)])
            if case .complete = RequestHead.scan(cut, limits: limit) { preconditionFailure("a cut head is complete") }
        case .refused(let reason, let line):
            let answer = layer.refuse(
                RefusedRequest(
                    reason: reason, line: line, owner: .user(1000), clientAddress: "127.0.0.1", clientPort: 1))
            precondition(answer.status == reason.status, "status \(answer.status)")
            let body = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: String]
            precondition(body?.keys.sorted() == ["code", "message"], "not a JSON error")
        case .incomplete:
            break
        }
    }
    return 0
}
