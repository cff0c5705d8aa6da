import AWSSigning
import CodePipeline
import CryptoPrimitives
import Dispatch
import HTTPCore
import MicroHTTPServer
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The multipart uploads a sidecar holds open for its tools, under the `upload` scope:
///
/// - `POST /v1/artifacts/{name}/multipart?length=N&part_size=P` creates one (`CreateMultipartUpload`,
///   SSE-KMS under the job's key, output artifacts only) and answers its id and part count;
/// - `GET …/multipart/{id}/parts?first=N&sha256=HEX,HEX…` presigns `UploadPart` URLs for up to 32
///   parts from N, each bound to its number, its length (from the part size) and the SHA-256 given;
/// - `POST …/multipart/{id}/complete` checks with `ListParts` that every part is there with its
///   bound length and checksum, then completes it with `x-amz-mp-object-size`;
/// - `DELETE …/multipart/{id}` aborts it.
///
/// Each upload belongs to the token that created it: any other gets `404 UploadNotFound`. Every
/// upload still open when the sidecar stops (the job's end, a shutdown) is aborted.
///
/// Thread-safety: the server's threads call `perform` concurrently; the table is behind a
/// `Mutex`, the S3 calls run outside it.
public final class MultipartUploads: Sendable {
    /// One open upload.
    struct Upload: Sendable {
        var artifact: Artifact
        var token: String
        var s3Id: String
        var length: UInt64
        var partSize: UInt64
        var partCount: Int
        /// The SHA-256 each part's latest URL was bound to.
        var bound: [Int: [UInt8]] = [:]
        /// Whether a complete or abort is under way (a second one waits its turn as a refusal).
        var busy = false

        func length(of part: Int) -> UInt64 {
            part < partCount ? partSize : length - partSize * UInt64(partCount - 1)
        }
    }

    /// What a multipart request asks, once the router has checked its token, scope and shape.
    public enum Call: Sendable {
        case create(artifact: Artifact, length: UInt64, partSize: UInt64)
        case partURLs(id: String, first: Int, sha256: [[UInt8]])
        case complete(id: String)
        case abort(id: String)
    }

    /// The most uploads open at once.
    static let maxOpen = 16
    /// The most part URLs one request gets.
    public static let maxBatch = 32

    private let s3: S3Multipart
    private let presignLifetime: Duration
    private let table = Mutex<[String: Upload]>([:])

    public init(s3: S3Multipart, presignLifetime: Duration) {
        self.s3 = s3
        self.presignLifetime = presignLifetime
    }

    /// Answers `call` for the holder of token `token`, with `snapshot`'s credentials, blocking
    /// the calling thread (a server thread, never a Swift concurrency one) while S3 answers.
    public func perform(
        _ call: Call, artifact: String, token: String, snapshot: CredentialSnapshot, now: Date
    ) -> Routed {
        let box = Mutex<Routed?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let routed = await self.answer(
                call, owner: Owner(artifact: artifact, token: token), snapshot: snapshot, now: now)
            box.withLock { $0 = routed }
            done.signal()
        }
        done.wait()
        return box.withLock { $0 } ?? .refused(500, .uploadFailed, "the upload call did not finish")
    }

    /// Aborts every upload still open (the job ended, or the sidecar stops); returns how many.
    public func abortAll(credentials: Credentials, now: Date) async -> Int {
        let open = table.withLock { table in
            defer { table.removeAll() }
            return Array(table.values)
        }
        for upload in open {
            try? await s3.abort(upload.artifact, id: upload.s3Id, credentials: credentials, now: now)
        }
        return open.count
    }

    /// How many uploads are open.
    public var openCount: Int { table.withLock { $0.count } }

    /// Who may act on an upload: the token that made it, naming its artifact.
    struct Owner: Sendable {
        var artifact: String
        var token: String

        func owns(_ upload: Upload) -> Bool { upload.token == token && upload.artifact.name == artifact }
    }

    private func answer(_ call: Call, owner: Owner, snapshot: CredentialSnapshot, now: Date) async -> Routed {
        let credentials = snapshot.details.artifactCredentials
        switch call {
        case .create(let artifact, let length, let partSize):
            guard table.withLock({ $0.count }) < Self.maxOpen else {
                return .refused(409, .tooManyUploads, "\(Self.maxOpen) uploads are open: complete or abort one")
            }
            let s3Id: String
            do {
                s3Id = try await s3.create(
                    artifact, key: snapshot.details.encryptionKey, credentials: credentials, now: now)
            } catch {
                return Self.failed("CreateMultipartUpload", error)
            }
            guard let random = try? SecureRandom.bytes(count: 12) else {
                try? await s3.abort(artifact, id: s3Id, credentials: credentials, now: now)
                return .refused(500, .uploadFailed, "no random bytes for an upload id")
            }
            let id = "mpu-" + Hex.encode(random)
            let count = Int((length + partSize - 1) / partSize)
            table.withLock {
                $0[id] = Upload(
                    artifact: artifact, token: owner.token, s3Id: s3Id, length: length, partSize: partSize,
                    partCount: count)
            }
            return Routed(
                JSONResponse.json(
                    200,
                    JSONText.object([
                        ("upload_id", JSONText.quote(id)), ("bucket", JSONText.quote(artifact.bucket)),
                        ("key", JSONText.quote(artifact.key)), ("part_size", String(partSize)),
                        ("parts", String(count)), ("length", String(length)),
                    ])),
                Decision(
                    .served(.uploadCreated), accessKeyId: credentials.accessKeyId,
                    upload: Decision.Upload(artifact: artifact, id: s3Id, firstPart: nil, lastPart: count)))
        case .partURLs(let id, let first, let sums):
            guard let upload = lookup(id, owner) else { return Self.notFound() }
            let last = first + sums.count - 1
            guard first >= 1, last <= upload.partCount else {
                return .refused(
                    400, .invalidUpload, "the upload has parts 1 to \(upload.partCount); asked for \(first) to \(last)")
            }
            guard
                let (signingTime, seconds) = ArtifactURL.lifetime(
                    expiresAt: snapshot.expiresAt, lifetime: presignLifetime, now: now)
            else {
                return .credentialsUnavailable(
                    "the artifact credentials expire within a minute; a fresh set is on its way")
            }
            var parts: [String] = []
            for (offset, sha256) in sums.enumerated() {
                let number = first + offset
                let length = upload.length(of: number)
                let url = s3.partURL(
                    upload.artifact, id: upload.s3Id, number: number, length: length, sha256: sha256,
                    credentials: credentials, expires: seconds, now: signingTime)
                var headers = JSONText.ObjectWriter()
                headers.string(named: "content-length", String(length))
                headers.string(named: "x-amz-checksum-sha256", Data(sha256).base64EncodedString())
                parts.append(
                    JSONText.object([
                        ("part", String(number)), ("length", String(length)), ("method", JSONText.quote("PUT")),
                        ("url", JSONText.quote(url)),
                        ("headers", String(decoding: headers.finish(), as: UTF8.self)),
                    ]))
            }
            table.withLock { table in
                for (offset, sha256) in sums.enumerated() { table[id]?.bound[first + offset] = sha256 }
            }
            let expiration = signingTime.addingTimeInterval(TimeInterval(seconds))
            return Routed(
                JSONResponse.json(
                    200,
                    JSONText.object([
                        ("upload_id", JSONText.quote(id)), ("parts", "[" + parts.joined(separator: ",") + "]"),
                        ("expiration", JSONText.quote(AWSDate.iso8601(expiration))),
                    ])),
                Decision(
                    .served(.partURLs), accessKeyId: credentials.accessKeyId, expiration: expiration,
                    upload: Decision.Upload(
                        artifact: upload.artifact, id: upload.s3Id, firstPart: first, lastPart: last)))
        case .complete(let id):
            guard let upload = claim(id, owner) else { return Self.notFound() }
            let listed: [S3Multipart.Part]
            do {
                listed = try await s3.listParts(upload.artifact, id: upload.s3Id, credentials: credentials, now: now)
            } catch {
                release(id)
                return Self.failed("ListParts", error)
            }
            if let problem = Self.check(listed, against: upload) {
                release(id)
                return .refused(409, .uploadIncomplete, problem)
            }
            let completed: S3Multipart.Completed
            do {
                completed = try await s3.complete(
                    upload.artifact, id: upload.s3Id, parts: listed, size: upload.length, credentials: credentials,
                    now: now)
            } catch {
                release(id)
                return Self.failed("CompleteMultipartUpload", error)
            }
            _ = table.withLock { $0.removeValue(forKey: id) }
            if let key = snapshot.details.encryptionKey {
                let answered = completed.kmsKeyId ?? ""
                guard completed.encryption == "aws:kms", answered == key.id || answered.hasSuffix(":key/" + key.id)
                else {
                    return .refused(
                        502, .uploadFailed, "S3 stored the object without saying it is aws:kms under the job's key")
                }
            }
            return Routed(
                JSONResponse.json(
                    200,
                    JSONText.object([
                        ("bucket", JSONText.quote(upload.artifact.bucket)),
                        ("key", JSONText.quote(upload.artifact.key)),
                        ("etag", JSONText.quote(completed.etag)), ("bytes", String(upload.length)),
                        ("parts", String(upload.partCount)),
                        ("sse", completed.encryption.map(JSONText.quote) ?? "null"),
                        ("kms_key_id", completed.kmsKeyId.map(JSONText.quote) ?? "null"),
                    ])),
                Decision(
                    .served(.uploadCompleted), accessKeyId: credentials.accessKeyId,
                    upload: Decision.Upload(
                        artifact: upload.artifact, id: upload.s3Id, firstPart: 1, lastPart: upload.partCount)))
        case .abort(let id):
            guard let upload = claim(id, owner) else { return Self.notFound() }
            do {
                try await s3.abort(upload.artifact, id: upload.s3Id, credentials: credentials, now: now)
            } catch {
                release(id)
                return Self.failed("AbortMultipartUpload", error)
            }
            _ = table.withLock { $0.removeValue(forKey: id) }
            return Routed(
                JSONResponse.json(200, #"{"aborted":true}"#),
                Decision(
                    .served(.uploadAborted), accessKeyId: credentials.accessKeyId,
                    upload: Decision.Upload(artifact: upload.artifact, id: upload.s3Id, firstPart: nil, lastPart: nil)))
        }
    }

    /// What is wrong with the parts S3 holds, or nil when each of 1…N is there with the length
    /// and checksum its URL was bound to.
    static func check(_ listed: [S3Multipart.Part], against upload: Upload) -> String? {
        guard listed.map(\.number) == Array(1...upload.partCount) else {
            let have = Set(listed.map(\.number))
            let missing = (1...upload.partCount).filter { !have.contains($0) }
            return missing.isEmpty
                ? "S3 holds parts the upload does not have"
                : "part \(missing[0]) of \(upload.partCount) is not uploaded (\(missing.count) missing)"
        }
        for part in listed {
            guard part.size == upload.length(of: part.number) else {
                return "part \(part.number) holds \(part.size) bytes, not \(upload.length(of: part.number))"
            }
            guard let bound = upload.bound[part.number], part.checksum == Data(bound).base64EncodedString() else {
                return "part \(part.number)'s checksum is not the one its URL was bound to"
            }
        }
        return nil
    }

    private func lookup(_ id: String, _ owner: Owner) -> Upload? {
        table.withLock { table in table[id].flatMap { owner.owns($0) ? $0 : nil } }
    }

    /// The upload, marked busy, when it is the token's and not busy already.
    private func claim(_ id: String, _ owner: Owner) -> Upload? {
        table.withLock { table in
            guard let upload = table[id], owner.owns(upload), !upload.busy else { return nil }
            table[id]?.busy = true
            return upload
        }
    }

    private func release(_ id: String) {
        table.withLock { $0[id]?.busy = false }
    }

    private static func notFound() -> Routed {
        .refused(404, .uploadNotFound, "no upload of that id is open for this token")
    }

    private static func failed(_ operation: String, _ failure: S3Multipart.Failure) -> Routed {
        let code = String(failure.code.prefix(64).filter { $0.isLetter || $0.isNumber })
        let status = failure.status == 403 ? 403 : 502
        return .refused(status, .uploadFailed, "S3 refused \(operation): \(failure.status) \(code)")
    }
}
