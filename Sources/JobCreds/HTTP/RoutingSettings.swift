/// How the credentials listener's router answers what goes beyond the credentials themselves.
public struct RoutingSettings: Sendable {
    /// The longest a presigned URL lives (`--presign-ttl`).
    public var presignLifetime: Duration
    /// Where presigned URLs point; nil serves none.
    public var s3: S3Endpoint?

    /// The default `--presign-ttl` and the longest allowed.
    public static let defaultPresignLifetime: Duration = .seconds(300)
    public static let longestPresignLifetime: Duration = .seconds(3600)

    /// Creates settings.
    public init(presignLifetime: Duration = RoutingSettings.defaultPresignLifetime, s3: S3Endpoint? = nil) {
        self.presignLifetime = presignLifetime
        self.s3 = s3
    }
}
