import AWSSigning
import HTTPTransport

/// Where a presigned URL points: the region's S3 endpoint, virtual-hosted style
/// (`bucket.s3.region.amazonaws.com/key`) unless the bucket's name cannot be a host name (dots
/// would break TLS, upper case and `_` are not DNS), then path style; or an override
/// (`--s3-endpoint-url`, a local fake or a private endpoint), always path style.
public struct S3Endpoint: Sendable, Equatable {
    /// The region the URLs are signed for.
    public var region: String
    /// The endpoint that replaces the region's, if any.
    public var override: EndpointURL?

    /// An endpoint for `region`, or `override` instead.
    public init(region: String, override: EndpointURL? = nil) {
        self.region = region
        self.override = override
    }

    /// The scheme, `Host` and unencoded path of `bucket`'s object `key`.
    public func location(bucket: String, key: String) -> (scheme: String, host: String, path: String) {
        if let override {
            let base = override.path.hasSuffix("/") ? String(override.path.dropLast()) : override.path
            return (override.scheme, override.hostHeader, "\(base)/\(bucket)/\(key)")
        }
        let regional = "s3.\(region).\(AWSRegion.dnsSuffix(region))"
        guard Self.isVirtualHostable(bucket) else { return ("https", regional, "/\(bucket)/\(key)") }
        return ("https", "\(bucket).\(regional)", "/\(key)")
    }

    /// Whether `bucket` can be the first label of a host name under TLS: 3 to 63 characters of
    /// lower-case letters, digits and `-`, starting and ending with a letter or digit.
    static func isVirtualHostable(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last,
            alphanumeric(first), alphanumeric(last)
        else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// The endpoint for `region`: `--s3-endpoint-url` (`flag`), then `AWS_ENDPOINT_URL_S3`, then
    /// `AWS_ENDPOINT_URL`, else the region's own. Plain `http://` is accepted for loopback only
    /// (a local fake): a presigned URL is as good as the credentials for its object.
    /// - Throws: `JobCredsError.usage` naming the setting at fault.
    public static func resolve(
        flag: String?, environment: [String: String], region: String
    ) throws(JobCredsError)
        -> S3Endpoint
    {
        let candidates: [(String, String?)] = [
            ("--s3-endpoint-url", flag), ("AWS_ENDPOINT_URL_S3", environment["AWS_ENDPOINT_URL_S3"]),
            ("AWS_ENDPOINT_URL", environment["AWS_ENDPOINT_URL"]),
        ]
        guard let (source, text) = candidates.first(where: { !($0.1 ?? "").isEmpty }), let text else {
            return S3Endpoint(region: region)
        }
        guard let url = EndpointURL(text), url.query.isEmpty else {
            throw JobCredsError(.usage, "\(source) \(text) is not an http(s) URL without a query")
        }
        guard url.scheme == "https" || url.isLoopback else {
            throw JobCredsError(
                .usage, "\(source) uses plain http to \(url.host): only https (or http to loopback) is allowed")
        }
        return S3Endpoint(region: region, override: url)
    }
}
