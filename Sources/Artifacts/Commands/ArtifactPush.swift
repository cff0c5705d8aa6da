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

    /// Packs and uploads through `transfer`; returns the summary line.
    public func run(_ transfer: ObjectTransfer) async throws(ArtifactError) -> String {
        let started = ArtifactPull.now()
        let packed = try ZipPacking.pack(source, settings: settings, temporaryDirectory: temporaryDirectory)
        guard packed.length <= multipartThreshold else {
            throw ArtifactError(
                .tooLarge,
                "the archive is \(packed.length) bytes, over --multipart-threshold "
                    + "\(ByteSize.shown(multipartThreshold)); multipart uploads are not built yet")
        }
        let uploaded = try await transfer.upload(file: packed.descriptor, length: packed.length, sha256: packed.sha256)
        var line = SummaryLine()
        line.add("artifact", artifact)
        line.add("bucket", uploaded.bucket)
        line.add("key", uploaded.key)
        line.add("bytes", packed.length)
        line.add("sha256", Hex.encode(packed.sha256))
        line.add("parts", 1)
        line.add("entries", packed.entries)
        line.add("kms_key_id", uploaded.kmsKeyId)
        line.add("seconds", seconds: ArtifactPull.now() - started)
        return line.text
    }
}
