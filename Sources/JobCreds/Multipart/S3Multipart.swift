import AWSIdentity
import AWSSigning
import CodePipeline
import CryptoPrimitives
import HTTPCore
import HTTPTransport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The S3 calls of a multipart upload that the sidecar makes itself, signed with the artifact
/// credentials: `CreateMultipartUpload` (with SSE-KMS under the job's key: the build cannot
/// choose another), `ListParts`, `CompleteMultipartUpload` (with `x-amz-mp-object-size`, so S3
/// checks the total) and `AbortMultipartUpload`. Only `UploadPart` is left to the tool, through a
/// presigned URL (`partURL`), which carries no SSE header: S3 refuses one there.
///
/// Thread-safety: a value; the transport is `Sendable`.
public struct S3Multipart: Sendable {
    /// What S3 said when it refused, or that nothing came back.
    public struct Failure: Error, Sendable {
        /// The HTTP status, 0 when no answer came.
        public var status: Int
        /// S3's `<Code>`, or the transport's error code.
        public var code: String
        /// Whether trying again may succeed (no answer, or a `5xx`).
        var retryable = false
    }

    /// A part as `ListParts` reports it.
    public struct Part: Sendable, Equatable {
        public var number: Int
        public var etag: String
        public var size: UInt64
        /// The base64 SHA-256 S3 recorded for it, if any.
        public var checksum: String?
    }

    /// What `CompleteMultipartUpload` answered.
    public struct Completed: Sendable {
        public var etag: String
        public var encryption: String?
        public var kmsKeyId: String?
    }

    let endpoint: S3Endpoint
    let transport: any HTTPTransport

    public init(endpoint: S3Endpoint, transport: any HTTPTransport) {
        self.endpoint = endpoint
        self.transport = transport
    }

    /// Starts an upload of `artifact`; returns S3's upload id.
    func create(
        _ artifact: Artifact, key: EncryptionKey?, credentials: Credentials, now: Date
    ) async throws(Failure) -> String {
        var headers: HTTPHeaders = [("Content-Type", "application/zip"), ("x-amz-checksum-algorithm", "SHA256")]
        if let key {
            headers.append("x-amz-server-side-encryption", "aws:kms")
            headers.append("x-amz-server-side-encryption-aws-kms-key-id", key.id)
        }
        let response = try await send(
            "POST", artifact, query: [("uploads", "")], headers: headers, credentials: credentials, now: now)
        guard let id = XMLText.element("UploadId", in: Self.text(response)), !id.isEmpty else {
            throw Failure(status: response.status, code: "NoUploadId")
        }
        return id
    }

    /// Every part S3 holds of upload `id`, in order.
    func listParts(
        _ artifact: Artifact, id: String, credentials: Credentials, now: Date
    ) async throws(Failure) -> [Part] {
        var parts: [Part] = []
        var marker: String?
        repeat {
            var query = [("uploadId", id)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try await send("GET", artifact, query: query, credentials: credentials, now: now)
            let xml = Self.text(response)
            for block in XMLText.elements("Part", in: xml) {
                guard let number = XMLText.element("PartNumber", in: block).flatMap({ Int($0) }),
                    let etag = XMLText.element("ETag", in: block),
                    let size = XMLText.element("Size", in: block).flatMap({ UInt64($0) })
                else { throw Failure(status: response.status, code: "UnreadablePartList") }
                parts.append(
                    Part(
                        number: number, etag: etag, size: size,
                        checksum: XMLText.element("ChecksumSHA256", in: block)))
            }
            marker =
                XMLText.element("IsTruncated", in: xml) == "true"
                ? XMLText.element("NextPartNumberMarker", in: xml) : nil
        } while marker != nil && parts.count <= 10_000
        return parts
    }

    /// Completes upload `id` from `parts`, which must add up to `size` bytes (S3 checks it too).
    func complete(
        _ artifact: Artifact, id: String, parts: [Part], size: UInt64, credentials: Credentials, now: Date
    ) async throws(Failure) -> Completed {
        var body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            body += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(XMLText.escaped(part.etag))</ETag>"
            if let checksum = part.checksum { body += "<ChecksumSHA256>\(checksum)</ChecksumSHA256>" }
            body += "</Part>"
        }
        body += "</CompleteMultipartUpload>"
        let response = try await send(
            "POST", artifact, query: [("uploadId", id)],
            headers: [("Content-Type", "application/xml"), ("x-amz-mp-object-size", String(size))],
            body: Array(body.utf8), credentials: credentials, now: now)
        // S3 may answer 200 and put the error in the body.
        let xml = Self.text(response)
        if let code = XMLText.element("Code", in: xml), xml.contains("<Error>") || xml.hasPrefix("<Error") {
            throw Failure(status: response.status, code: code)
        }
        return Completed(
            etag: XMLText.element("ETag", in: xml) ?? "",
            encryption: response.header("x-amz-server-side-encryption"),
            kmsKeyId: response.header("x-amz-server-side-encryption-aws-kms-key-id"))
    }

    /// Aborts upload `id`: S3 frees its parts.
    func abort(_ artifact: Artifact, id: String, credentials: Credentials, now: Date) async throws(Failure) {
        _ = try await send("DELETE", artifact, query: [("uploadId", id)], credentials: credentials, now: now)
    }

    /// A presigned `UploadPart` of part `number` of upload `id`, bound to its length and SHA-256.
    func partURL(
        _ artifact: Artifact, id: String, number: Int, length: UInt64, sha256: [UInt8], credentials: Credentials,
        expires: Int, now: Date
    ) -> String {
        let (scheme, host, path) = endpoint.location(bucket: artifact.bucket, key: artifact.key)
        let signer = SigV4Signer(
            credentials: credentials, region: endpoint.region, service: "s3", normalizesPath: false)
        return signer.presign(
            method: "PUT", scheme: scheme, host: host, path: path,
            query: [("partNumber", String(number)), ("uploadId", id)],
            headers: [
                ("content-length", String(length)), ("x-amz-checksum-sha256", Data(sha256).base64EncodedString()),
            ], expires: expires, at: now
        ).url
    }

    /// One signed request; a `2xx` answer, else its `Failure`.
    private func send(
        _ method: String, _ artifact: Artifact, query: [(String, String)], headers extra: HTTPHeaders = [],
        body: [UInt8] = [], credentials: Credentials, now: Date
    ) async throws(Failure) -> HTTPResponse {
        let (scheme, host, path) = endpoint.location(bucket: artifact.bucket, key: artifact.key)
        let queryText = query.map {
            $0.1.isEmpty ? URIEncoding.encode($0.0) : "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))"
        }
        .joined(separator: "&")
        var headers: HTTPHeaders = [("Host", host), ("x-amz-content-sha256", Hex.encode(SHA256.hash(body)))]
        for (name, value) in extra { headers.append(name, value) }
        let signer = SigV4Signer(
            credentials: credentials, region: endpoint.region, service: "s3", normalizesPath: false)
        let signed = signer.sign(
            SigV4Signer.Request(method: method, path: path, query: queryText, headers: headers, body: body), at: now)
        var wire = signed.headers
        wire.remove("Host")
        let url = "\(scheme)://\(host)\(URIEncoding.encode(path, keepSlash: true))?\(queryText)"
        let request = HTTPRequest(method: method, url: url, headers: wire, body: body, timeout: .seconds(120))
        return try await Self.retries.run(shouldRetry: { (failure: Failure) in failure.retryable }) {
            (_) async throws(Failure) -> HTTPResponse in
            let response: HTTPResponse
            do throws(HTTPTransportError) {
                response = try await transport.send(request)
            } catch {
                throw Failure(status: 0, code: error.code.rawValue, retryable: error.isRetryable)
            }
            guard (200..<300).contains(response.status) else {
                throw Failure(
                    status: response.status,
                    code: XMLText.element("Code", in: Self.text(response)) ?? "HTTP\(response.status)",
                    retryable: (500...599).contains(response.status))
            }
            return response
        }
    }

    /// A broken connection or a `5xx` is tried again twice.
    private static let retries = RetryPolicy(maxAttempts: 3, base: .milliseconds(200), cap: .seconds(2))

    /// An answer's body as text, for `XMLText`.
    private static func text(_ response: HTTPResponse) -> String {
        String(decoding: response.body, as: UTF8.self)
    }
}
