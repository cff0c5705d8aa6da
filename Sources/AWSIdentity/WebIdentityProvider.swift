import AWSSigning
import HTTPCore
import HTTPTransport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Credentials from STS `AssumeRoleWithWebIdentity`, the Kubernetes IRSA path:
/// `AWS_WEB_IDENTITY_TOKEN_FILE` (re-read on every fetch, since the kubelet rotates it),
/// `AWS_ROLE_ARN`, optional `AWS_ROLE_SESSION_NAME`. The call is unsigned; the token is the proof.
/// STS is `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else the regional endpoint.
public struct WebIdentityProvider: CredentialProvider {
    public let name = "web-identity"
    /// The role assumed.
    public let roleArn: String
    /// The STS endpoint.
    public let endpoint: EndpointURL
    private let tokenFile: String
    private let sessionName: String
    private let transport: any HTTPTransport
    private let retry: RetryPolicy

    /// The provider, if `AWS_WEB_IDENTITY_TOKEN_FILE` is set.
    /// - Throws: `IdentityError.misconfigured` when `AWS_ROLE_ARN` is missing or the endpoint is bad.
    public static func configured(
        in environment: [String: String], region: String?, transport: any HTTPTransport, retry: RetryPolicy,
        now: Date
    ) throws(IdentityError) -> WebIdentityProvider? {
        guard let tokenFile = environment.nonEmpty("AWS_WEB_IDENTITY_TOKEN_FILE") else { return nil }
        guard let roleArn = environment.nonEmpty("AWS_ROLE_ARN") else {
            throw IdentityError(
                .misconfigured, provider: "web-identity", "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        let endpointText =
            environment.nonEmpty("AWS_ENDPOINT_URL_STS") ?? environment.nonEmpty("AWS_ENDPOINT_URL")
            ?? stsEndpoint(region: region)
        guard let endpoint = EndpointURL(endpointText), endpoint.scheme == "https" || endpoint.isLoopback else {
            throw IdentityError(
                .misconfigured, provider: "web-identity",
                "the STS endpoint \(endpointText) is not an https URL (plain http is allowed for loopback only)")
        }
        let sessionName =
            environment.nonEmpty("AWS_ROLE_SESSION_NAME") ?? "jobcreds-\(Int(now.timeIntervalSince1970))"
        return WebIdentityProvider(
            roleArn: roleArn, endpoint: endpoint, tokenFile: tokenFile, sessionName: sessionName,
            transport: transport, retry: retry)
    }

    /// The regional STS endpoint; the global one when no region is known.
    static func stsEndpoint(region: String?) -> String {
        guard let region else { return "https://sts.amazonaws.com" }
        return "https://sts.\(region).\(AWSRegion.dnsSuffix(region))"
    }

    public func fetch() async throws(IdentityError) -> Credentials {
        guard let token = FileText.read(tokenFile)?.trimmingWhitespace(), !token.isEmpty else {
            throw IdentityError(
                .misconfigured, provider: name, "cannot read a token from AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile)")
        }
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName), ("WebIdentityToken", String(token)),
        ].map { "\($0.0)=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(
            method: "POST", url: endpoint.description,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "text/xml")],
            body: Array(form.utf8), timeout: .seconds(10))
        return try await retry.run(shouldRetry: { (error: IdentityError) in error.isRetryable }) {
            (_) throws(IdentityError) in
            let response = try await send(request)
            let xml = String(decoding: response.body, as: UTF8.self)
            guard response.status == 200 else {
                let code = XMLText.element("Code", in: xml).map(sanitizedCode) ?? "HTTP \(response.status)"
                let transient =
                    response.status >= 500 || response.status == 429
                    || ["IDPCommunicationError", "Throttling", "ThrottlingException"].contains(code)
                throw IdentityError(
                    transient ? .unreachable : .denied, provider: name,
                    "STS refused AssumeRoleWithWebIdentity for \(roleArn): \(code); check the role's trust policy "
                        + "and the token's audience",
                    isRetryable: transient)
            }
            guard let keyId = XMLText.element("AccessKeyId", in: xml),
                let secret = XMLText.element("SecretAccessKey", in: xml),
                let session = XMLText.element("SessionToken", in: xml),
                let expirationText = XMLText.element("Expiration", in: xml),
                let expiration = AWSDate.parseISO8601(expirationText)
            else {
                throw IdentityError(.malformedResponse, provider: name, "STS answered without complete credentials")
            }
            return Credentials(
                accessKeyId: keyId, secretAccessKey: secret, sessionToken: session, expiration: expiration)
        }
    }

    private func send(_ request: HTTPRequest) async throws(IdentityError) -> HTTPResponse {
        do {
            return try await transport.send(request)
        } catch {
            throw IdentityError(
                .unreachable, provider: name, "cannot reach STS at \(endpoint.hostHeader): \(error)",
                isRetryable: error.isRetryable, underlying: error)
        }
    }
}
