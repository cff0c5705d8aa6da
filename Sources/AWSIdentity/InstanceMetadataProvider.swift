import AWSSigning
import HTTPCore
import HTTPTransport

/// Credentials of the EC2 instance profile through IMDSv2 only: a session token from
/// `PUT /latest/api/token`, then the role name and the role's credentials. The endpoint is
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` or `http://169.254.169.254`; `AWS_EC2_METADATA_DISABLED=true`
/// turns the provider off.
public struct InstanceMetadataProvider: CredentialProvider {
    public let name = "instance-metadata"
    /// The metadata service's base URL.
    public let endpoint: String
    private let transport: any HTTPTransport
    private let retry: RetryPolicy

    /// The provider, unless the environment disables it.
    public static func configured(
        in environment: [String: String], transport: any HTTPTransport, retry: RetryPolicy
    ) -> InstanceMetadataProvider? {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { return nil }
        var endpoint = environment.nonEmpty("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        return InstanceMetadataProvider(endpoint: endpoint, transport: transport, retry: retry)
    }

    public func fetch() async throws(IdentityError) -> Credentials {
        try await retry.run(shouldRetry: { (error: IdentityError) in error.isRetryable }) {
            (_) throws(IdentityError) in
            let token = try await call(
                "PUT", "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
            let sessionHeader: HTTPHeaders = [("X-aws-ec2-metadata-token", String(decoding: token, as: UTF8.self))]
            let roles = try await call("GET", "/latest/meta-data/iam/security-credentials/", headers: sessionHeader)
            guard
                let role = String(decoding: roles, as: UTF8.self).split(whereSeparator: \.isNewline).first
                    .map(String.init),
                !role.isEmpty, !role.contains("/")
            else {
                throw IdentityError(
                    .misconfigured, provider: name, "the instance has no IAM role attached (no instance profile)")
            }
            let body = try await call(
                "GET", "/latest/meta-data/iam/security-credentials/\(role)", headers: sessionHeader)
            return try CredentialsDocument.credentials(from: body, provider: name)
        }
    }

    private func call(
        _ method: String, _ path: String, headers: HTTPHeaders
    )
        async throws(IdentityError) -> [UInt8]
    {
        let request = HTTPRequest(
            method: method, url: endpoint + path, headers: headers, timeout: .seconds(1), connectTimeout: .seconds(1))
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw IdentityError(
                .unreachable, provider: name, "the instance metadata service is not reachable (not on EC2?): \(error)",
                isRetryable: error.isRetryable, underlying: error)
        }
        switch response.status {
        case 200:
            return response.body
        case 404:
            throw IdentityError(
                .misconfigured, provider: name, "\(path) was not found: the instance has no IAM role attached")
        case 401, 403:
            throw IdentityError(
                .denied, provider: name,
                "the metadata service refused \(method) \(path) (HTTP \(response.status)); is IMDS access "
                    + "or the hop limit restricted?")
        default:
            throw IdentityError(
                .unreachable, provider: name, "the metadata service answered HTTP \(response.status) to \(path)",
                isRetryable: response.status >= 500 || response.status == 429)
        }
    }
}
