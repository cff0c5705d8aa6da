import AWSSigning
import HTTPTransport

/// Where CodePipeline calls go: `--endpoint-url`, then `AWS_ENDPOINT_URL_CODEPIPELINE`, then
/// `AWS_ENDPOINT_URL`, else the regional endpoint (`--fips` for the FIPS one; China regions on
/// `amazonaws.com.cn`). Plain `http://` is accepted for loopback hosts only (local fakes).
public enum CodePipelineEndpoint {
    /// Regions with a FIPS endpoint for CodePipeline.
    public static let fipsRegions: Set<String> = [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "us-gov-west-1", "us-gov-east-1",
    ]

    /// Resolves the endpoint.
    /// - Throws: `CodePipelineError.invalidRequest` naming the setting at fault.
    public static func resolve(
        flag: String?, environment: [String: String], region: String, fips: Bool
    )
        throws(CodePipelineError) -> EndpointURL
    {
        let candidates: [(String, String?)] = [
            ("--endpoint-url", flag), ("AWS_ENDPOINT_URL_CODEPIPELINE", environment["AWS_ENDPOINT_URL_CODEPIPELINE"]),
            ("AWS_ENDPOINT_URL", environment["AWS_ENDPOINT_URL"]),
        ]
        if let (source, text) = candidates.first(where: { !($0.1 ?? "").isEmpty }), let text {
            guard let url = EndpointURL(text) else {
                throw CodePipelineError(.invalidRequest, "\(source) \(text) is not an http(s) URL")
            }
            guard url.scheme == "https" || url.isLoopback else {
                throw CodePipelineError(
                    .invalidRequest,
                    "\(source) uses plain http to \(url.host): the answer carries credentials, so only https "
                        + "(or http to a loopback test endpoint) is allowed")
            }
            return url
        }
        guard isRegionName(region) else {
            throw CodePipelineError(.invalidRequest, "'\(region)' is not an AWS region name such as us-east-1")
        }
        if fips, !fipsRegions.contains(region) {
            throw CodePipelineError(
                .invalidRequest,
                "CodePipeline has no FIPS endpoint in \(region); FIPS regions: "
                    + fipsRegions.sorted().joined(separator: ", "))
        }
        let host = "codepipeline\(fips ? "-fips" : "").\(region).\(AWSRegion.dnsSuffix(region))"
        guard let url = EndpointURL("https://\(host)") else {
            throw CodePipelineError(.invalidRequest, "cannot build an endpoint for region \(region)")
        }
        return url
    }

    /// Whether `region` looks like `us-east-1` (letters, digits and dashes).
    static func isRegionName(_ region: String) -> Bool {
        (2...32).contains(region.count) && region.first?.isLetter == true
            && region.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
