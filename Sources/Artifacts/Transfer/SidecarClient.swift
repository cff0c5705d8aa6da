import AWSSigning
import Archive
import CryptoPrimitives
import HTTPCore
import HTTPTransport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A presigned URL as the sidecar hands it out (`/v1/artifacts/{name}/download|upload`).
public struct PresignedURL: Sendable {
    public var url: String
    /// The headers to send with exactly these values (they are signed).
    public var headers: HTTPHeaders
    /// When it stops working, in seconds since 1970.
    public var expiration: Int64
    public var bucket: String
    public var key: String
}

/// Asks the sidecar beside the build (`JOBCREDS_URL`, the token in `JOBCREDS_TOKEN_FILE`, read
/// again for every request so a rotated token is followed) for presigned artifact URLs.
public struct SidecarClient: Sendable {
    /// Which way a URL moves an artifact.
    public enum Direction: String, Sendable {
        case download
        case upload
    }

    private let base: String
    private let tokenFile: String
    private let transport: any HTTPTransport

    /// A client of the sidecar at `base` (`http://127.0.0.1:PORT`).
    public init(base: String, tokenFile: String, transport: any HTTPTransport) {
        var trimmed = Substring(base)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.base = String(trimmed)
        self.tokenFile = tokenFile
        self.transport = transport
    }

    /// A URL for `artifact`; an upload's bound to the bytes' SHA-256 and length.
    public func url(
        for artifact: String, _ direction: Direction, sha256: [UInt8]? = nil, length: UInt64? = nil
    ) async throws(ArtifactError) -> PresignedURL {
        guard Self.isArtifactName(artifact) else {
            throw ArtifactError(
                .usage, "\(displayName(artifact.utf8)) is not an artifact name ([A-Za-z0-9_-], 1 to 100)")
        }
        var path = "/v1/artifacts/\(artifact)/\(direction.rawValue)"
        if let sha256, let length {
            path += "?sha256=\(Hex.encode(sha256))&length=\(length)"
        }
        return try Self.decode(try await call("GET", path, artifact: artifact))
    }

    /// A multipart upload the sidecar created: its id, part size and part count.
    public struct Upload: Decodable, Sendable {
        public var upload_id: String
        public var bucket: String
        public var key: String
        public var part_size: UInt64
        public var parts: Int
    }

    /// A presigned `UploadPart` URL.
    public struct PartURL: Decodable, Sendable {
        public var part: Int
        public var length: UInt64
        public var url: String
        public var headers: [String: String]
    }

    /// What the sidecar answers a completed upload with.
    public struct Completed: Decodable, Sendable {
        public var bucket: String
        public var key: String
        public var etag: String
        public var bytes: UInt64
        public var parts: Int
        public var sse: String?
        public var kms_key_id: String?
    }

    private struct PartURLs: Decodable {
        var parts: [PartURL]
        var expiration: String
    }

    /// Asks the sidecar to start a multipart upload of `length` bytes in parts of `partSize`.
    public func createUpload(_ artifact: String, length: UInt64, partSize: UInt64) async throws(ArtifactError) -> Upload
    {
        try Self.decoded(
            Upload.self,
            try await call(
                "POST", "/v1/artifacts/\(artifact)/multipart?length=\(length)&part_size=\(partSize)", artifact: artifact
            ))
    }

    /// URLs for parts `first`… of upload `id`, one per SHA-256 given; and when they expire.
    public func partURLs(
        _ artifact: String, id: String, first: Int, sha256: [[UInt8]]
    ) async throws(ArtifactError) -> ([PartURL], expiration: Int64) {
        let sums = sha256.map(Hex.encode).joined(separator: ",")
        let answer = try Self.decoded(
            PartURLs.self,
            try await call(
                "GET", "/v1/artifacts/\(artifact)/multipart/\(id)/parts?first=\(first)&sha256=\(sums)",
                artifact: artifact))
        guard let expiration = Self.epochSeconds(answer.expiration) else {
            throw ArtifactError(.sidecarRefused, "the sidecar's part URLs have no expiration")
        }
        return (answer.parts, expiration)
    }

    /// Completes upload `id`.
    public func complete(_ artifact: String, id: String) async throws(ArtifactError) -> Completed {
        try Self.decoded(
            Completed.self,
            try await call("POST", "/v1/artifacts/\(artifact)/multipart/\(id)/complete", artifact: artifact))
    }

    /// Aborts upload `id`.
    public func abort(_ artifact: String, id: String) async throws(ArtifactError) {
        _ = try await call("DELETE", "/v1/artifacts/\(artifact)/multipart/\(id)", artifact: artifact)
    }

    /// The waits between tries of a request to the sidecar.
    private static let backoff = RetryPolicy(base: .milliseconds(500), cap: .seconds(2))

    /// One request to the sidecar, tried again on a broken connection or a `503`; the 200 body,
    /// else the error its answer maps to.
    private func call(_ method: String, _ path: String, artifact: String) async throws(ArtifactError) -> [UInt8] {
        guard Self.isArtifactName(artifact) else {
            throw ArtifactError(
                .usage, "\(displayName(artifact.utf8)) is not an artifact name ([A-Za-z0-9_-], 1 to 100)")
        }
        var attempt = 0
        while true {
            attempt += 1
            var headers: HTTPHeaders = []
            headers.append("Authorization", try token())
            let request = HTTPRequest(method: method, url: base + path, headers: headers, timeout: .seconds(300))
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch {
                guard attempt < 3 else {
                    throw ArtifactError(.sidecarUnavailable, "the sidecar at \(base) does not answer: \(error.message)")
                }
                try? await Task.sleep(for: Self.backoff.delay(beforeRetry: attempt))
                continue
            }
            switch response.status {
            case 200:
                return response.body
            case 503 where attempt < 3:
                try? await Task.sleep(for: Self.backoff.delay(beforeRetry: attempt))
                continue
            default:
                let (code, message) = Self.error(response.body)
                let answer = "the sidecar answers \(response.status) \(code): \(message)"
                switch (response.status, code) {
                case (404, "ArtifactNotFound"): throw ArtifactError(.artifactNotFound, "\(artifact): \(answer)")
                case (503, _): throw ArtifactError(.sidecarUnavailable, answer)
                case (403, "UploadFailed"): throw ArtifactError(.accessDenied, answer)
                case (_, "UploadFailed"): throw ArtifactError(.transferFailed, answer)
                case (409, "UploadIncomplete"): throw ArtifactError(.transferFailed, answer)
                default: throw ArtifactError(.sidecarRefused, answer)
                }
            }
        }
    }

    private static func decoded<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws(ArtifactError) -> T {
        guard let value = try? JSONDecoder().decode(type, from: Data(body)) else {
            throw ArtifactError(.sidecarRefused, "the sidecar's answer is not what was asked")
        }
        return value
    }

    private func token() throws(ArtifactError) -> String {
        let descriptor = open(tokenFile, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw ArtifactError(
                .sidecarRefused, "cannot read the token file \(tokenFile): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4097)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, 4097) }
        guard count > 0, count <= 4096 else {
            throw ArtifactError(.sidecarRefused, "the token file \(tokenFile) is empty or over 4 KiB")
        }
        var token = buffer[..<count]
        while let last = token.last, last == 0x0a || last == 0x0d { token = token.dropLast() }
        guard !token.isEmpty, token.allSatisfy({ (0x21..<0x7f).contains($0) }) else {
            throw ArtifactError(.sidecarRefused, "the token file \(tokenFile) does not hold a token")
        }
        return String(decoding: token, as: UTF8.self)
    }

    private struct Answer: Decodable {
        var url: String
        var headers: [String: String]
        var expiration: String
        var bucket: String
        var key: String
    }

    private static func decode(_ body: [UInt8]) throws(ArtifactError) -> PresignedURL {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body)),
            let expiration = epochSeconds(answer.expiration)
        else { throw ArtifactError(.sidecarRefused, "the sidecar's answer is not a presigned URL") }
        var headers: HTTPHeaders = []
        for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) { headers.append(name, value) }
        return PresignedURL(
            url: answer.url, headers: headers, expiration: expiration, bucket: answer.bucket, key: answer.key)
    }

    private struct Failure: Decodable {
        var code: String
        var message: String
    }

    private static func error(_ body: [UInt8]) -> (String, String) {
        guard let failure = try? JSONDecoder().decode(Failure.self, from: Data(body)) else {
            return ("?", "no error body")
        }
        return (String(failure.code.prefix(64)), String(failure.message.prefix(300)))
    }

    /// An answer's `expiration` as seconds since 1970, read by the code's one ISO 8601 parser.
    static func epochSeconds(_ text: String) -> Int64? {
        AWSDate.parseISO8601(text).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
    }

    /// Whether `name` can be a CodePipeline artifact name (`[A-Za-z0-9_-]{1,100}`, botocore's
    /// pattern), and so a path segment as it is.
    public static func isArtifactName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100
            && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                    || byte == 0x2d || byte == 0x5f
            }
    }
}
