import AWSSigning
import CodePipeline
import HTTPCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A presigned URL for one artifact: what `/v1/artifacts/{name}/download` and `/upload` answer.
public struct ArtifactURL: Sendable {
    /// Which way the URL moves the artifact.
    public enum Direction: String, Sendable {
        /// `GET` an input artifact.
        case download
        /// `PUT` an output artifact.
        case upload

        /// The HTTP method the URL is signed for.
        public var method: String { self == .download ? "GET" : "PUT" }
    }

    /// The artifact name and direction of `/v1/artifacts/{name}/download|upload`: the name one
    /// non-empty segment, as sent (nothing decoded); nil for any other path.
    public static func target(of path: String) -> (name: Substring, direction: Direction)? {
        let prefix = "/v1/artifacts/"
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex,
            let direction = Direction(rawValue: String(rest[rest.index(after: slash)...]))
        else { return nil }
        return (rest[..<slash], direction)
    }

    /// The upload's bytes, bound into the URL: their SHA-256 (`x-amz-checksum-sha256`) and length.
    public struct Binding: Sendable, Equatable {
        /// The SHA-256 of the bytes, 32 bytes.
        public var sha256: [UInt8]
        /// The number of bytes.
        public var length: Int

        /// A binding to `sha256` and `length`.
        public init(sha256: [UInt8], length: Int) {
            self.sha256 = sha256
            self.length = length
        }
    }

    /// The artifact.
    public var artifact: Artifact
    /// `GET` or `PUT`.
    public var direction: Direction
    /// The URL.
    public var url: String
    /// The headers the tool must send with exactly these values (they are signed).
    public var headers: HTTPHeaders
    /// When the URL stops working.
    public var expiration: Date

    /// Signs a URL for `artifact` with `details`' artifact credentials at `now`.
    /// - Parameters:
    ///   - lifetime: the longest the URL may live (`--presign-ttl`); it also ends a minute before
    ///     the credentials that sign it (`expiresAt`).
    /// - Returns: nil when the credentials have less than a second left after that minute.
    public static func sign(
        _ artifact: Artifact, _ direction: Direction, binding: Binding?, details: JobDetails, expiresAt: Date,
        endpoint: S3Endpoint, lifetime: Duration, now: Date
    ) -> ArtifactURL? {
        guard let (signingTime, seconds) = Self.lifetime(expiresAt: expiresAt, lifetime: lifetime, now: now) else {
            return nil
        }
        var headers: HTTPHeaders = []
        if direction == .upload {
            if let key = details.encryptionKey {
                headers.append("x-amz-server-side-encryption", "aws:kms")
                headers.append("x-amz-server-side-encryption-aws-kms-key-id", key.id)
            }
            if let binding {
                headers.append("x-amz-checksum-sha256", Data(binding.sha256).base64EncodedString())
                headers.append("content-length", String(binding.length))
            }
        }
        let (scheme, host, path) = endpoint.location(bucket: artifact.bucket, key: artifact.key)
        let signer = SigV4Signer(
            credentials: details.artifactCredentials, region: endpoint.region, service: "s3", normalizesPath: false)
        let presigned = signer.presign(
            method: direction.method, scheme: scheme, host: host, path: path, headers: headers, expires: seconds,
            at: signingTime)
        return ArtifactURL(
            artifact: artifact, direction: direction, url: presigned.url, headers: headers,
            expiration: signingTime.addingTimeInterval(TimeInterval(seconds)))
    }

    /// How long before the credentials that sign it a URL ends: one in use when they expire fails.
    public static let credentialMargin: TimeInterval = 60

    /// When a URL signed now is signed (the whole second) and for how many seconds: at most
    /// `lifetime`, and ending `credentialMargin` before the credentials that sign it
    /// (`expiresAt`); nil when that leaves under a second.
    public static func lifetime(
        expiresAt: Date, lifetime: Duration, now: Date
    ) -> (signingTime: Date, seconds: Int)? {
        let signingTime = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let latest = expiresAt.addingTimeInterval(-credentialMargin).timeIntervalSince(signingTime)
        let seconds = Int(min(Double(lifetime.components.seconds), latest.rounded(.down)).clamped(to: -1...604_800))
        return seconds >= 1 ? (signingTime, seconds) : nil
    }

    /// `{"artifact","bucket","key","method","url","headers":{…},"expiration"}`.
    public var body: [UInt8] {
        var headerFields = JSONText.ObjectWriter()
        for (name, value) in headers { headerFields.string(named: name, value) }
        return Array(
            JSONText.object([
                ("artifact", JSONText.quote(artifact.name)), ("bucket", JSONText.quote(artifact.bucket)),
                ("key", JSONText.quote(artifact.key)), ("method", JSONText.quote(direction.method)),
                ("url", JSONText.quote(url)),
                ("headers", String(decoding: headerFields.finish(), as: UTF8.self)),
                ("expiration", JSONText.quote(AWSDate.iso8601(expiration))),
            ]).utf8)
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
