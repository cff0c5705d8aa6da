/// One input or output artifact in S3.
public struct Artifact: Sendable, Equatable {
    /// The artifact's name in the pipeline.
    public var name: String
    /// The source revision, when CodePipeline gives one.
    public var revision: String?
    /// The bucket.
    public var bucket: String
    /// The object key.
    public var key: String

    /// Creates an artifact.
    public init(name: String, revision: String?, bucket: String, key: String) {
        self.name = name
        self.revision = revision
        self.bucket = bucket
        self.key = key
    }

    /// `s3://bucket/key`.
    public var uri: String { "s3://\(bucket)/\(key)" }
}
