/// The settings `check` and `serve` share: which job, which region and endpoint, which CA.
public struct UpstreamSettings: Sendable {
    /// The job id as given.
    public var jobId: String
    /// The file holding a third-party job's client token; nil for a custom action job.
    public var clientTokenFile: String?
    /// `--region`.
    public var region: String?
    /// `--endpoint-url`.
    public var endpointURL: String?
    /// `--fips`.
    public var fips: Bool
    /// `--upstream-timeout`: how long one CodePipeline attempt may take.
    public var timeout: Duration

    /// How long one attempt may take unless told otherwise.
    public static let defaultTimeout: Duration = .seconds(10)

    /// Creates settings.
    public init(
        jobId: String, clientTokenFile: String?, region: String?, endpointURL: String?, fips: Bool,
        timeout: Duration = UpstreamSettings.defaultTimeout
    ) {
        self.jobId = jobId
        self.clientTokenFile = clientTokenFile
        self.region = region
        self.endpointURL = endpointURL
        self.fips = fips
        self.timeout = timeout
    }
}
