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
    /// Above this many bytes an upload would go in parts (`--multipart-threshold`).
    public var multipartThreshold: UInt64
    public var temporaryDirectory: String

    public init(
        artifact: String, source: String, settings: PackingSettings, multipartThreshold: UInt64,
        temporaryDirectory: String
    ) {
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

    /// Packs and uploads through `transfer`.
    public func run(_ transfer: ObjectTransfer) async throws(ArtifactError) -> Summary {
        let started = ArtifactPull.now()
        let packed = try ZipPacking.pack(source, settings: settings, temporaryDirectory: temporaryDirectory)
        guard packed.length <= multipartThreshold else {
            throw ArtifactError(
                .tooLarge,
                "the archive is \(packed.length) bytes, over --multipart-threshold "
                    + "\(ByteSize.shown(multipartThreshold)); multipart uploads are not built yet")
        }
        let uploaded = try await transfer.upload(file: packed.descriptor, length: packed.length, sha256: packed.sha256)
        return Summary(
            artifact: artifact, object: uploaded, bytes: packed.length, sha256: packed.sha256, parts: 1,
            entries: packed.entries, seconds: ArtifactPull.now() - started)
    }
}
