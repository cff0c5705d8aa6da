import Archive
import CryptoPrimitives
import HTTPTransport

/// `jobcreds artifacts push NAME DIR|FILE`: DIR's contents (or FILE as the one entry) zipped into
/// an unnamed temporary file, then uploaded through the sidecar's URL bound to its SHA-256 and
/// length; done only once S3 says the object is stored, encrypted as the job asks.
public struct ArtifactPush: Sendable {
    public var artifact: String
    public var source: String
    public var settings: PackingSettings
    /// Above this many bytes an upload goes in parts (`--multipart-threshold`).
    public var multipartThreshold: UInt64
    /// The bytes of each part (`--part-size`); nil: 16 MiB, or more when 10,000 would not hold it.
    public var partSize: UInt64?
    public var temporaryDirectory: String

    public init(
        artifact: String, source: String, settings: PackingSettings, multipartThreshold: UInt64,
        partSize: UInt64? = nil, temporaryDirectory: String
    ) {
        self.partSize = partSize
        self.artifact = artifact
        self.source = source
        self.settings = settings
        self.multipartThreshold = multipartThreshold
        self.temporaryDirectory = temporaryDirectory
    }

    /// What a push did.
    public struct Summary: Sendable {
        public var artifact: String
        public var object: ObjectTransfer.Uploaded
        public var bytes: UInt64
        public var sha256: [UInt8]
        public var parts: Int
        public var entries: Int
        public var seconds: Double

        /// The JSON line `push` prints.
        public var line: String {
            var line = SummaryLine()
            line.add("artifact", artifact)
            line.add("bucket", object.bucket)
            line.add("key", object.key)
            line.add("bytes", bytes)
            line.add("sha256", Hex.encode(sha256))
            line.add("parts", parts)
            line.add("entries", entries)
            line.add("kms_key_id", object.kmsKeyId)
            line.add("seconds", seconds: seconds)
            return line.text
        }
    }

    /// The part size: the one asked for, else 16 MiB, rounded up to whole MiB so 10,000 parts hold
    /// `length`.
    static func partSize(_ asked: UInt64?, length: UInt64) -> UInt64 {
        let least = ((length + 9_999) / 10_000 + (1 << 20) - 1) / (1 << 20) * (1 << 20)
        return max(asked ?? 16 << 20, least)
    }

    /// Packs and uploads through `transfer`.
    public func run(_ transfer: ObjectTransfer) async throws(ArtifactError) -> Summary {
        let started = ArtifactPull.now()
        let packed = try ZipPacking.pack(source, settings: settings, temporaryDirectory: temporaryDirectory)
        let uploaded: ObjectTransfer.Uploaded
        var parts = 1
        if packed.length <= multipartThreshold {
            uploaded = try await transfer.upload(file: packed.descriptor, length: packed.length, sha256: packed.sha256)
        } else {
            (uploaded, parts) = try await transfer.uploadMultipart(
                file: packed.descriptor, length: packed.length, partSize: Self.partSize(partSize, length: packed.length)
            )
        }
        return Summary(
            artifact: artifact, object: uploaded, bytes: packed.length, sha256: packed.sha256, parts: parts,
            entries: packed.entries, seconds: ArtifactPull.now() - started)
    }
}
