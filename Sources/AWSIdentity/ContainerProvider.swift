import AWSSigning
import HTTPCore
import HTTPTransport

/// Credentials from a container credentials endpoint: ECS task roles
/// (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`) and EKS Pod Identity or any other full URI
/// (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), with the token from
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read on every fetch) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerProvider: CredentialProvider {
    public let name = "container"
    /// The endpoint.
    public let url: EndpointURL
    private let tokenFile: String?
    private let token: String?
    private let transport: any HTTPTransport
    private let retry: RetryPolicy

    /// The ECS agent's fixed address, for relative URIs.
    static let ecsHost = "169.254.170.2"
    /// The addresses beside loopback that the SDKs send plain-HTTP credential requests to: the
    /// ECS agent's and EKS Pod Identity's (IPv4 and IPv6). The one list of them: the sidecar's
    /// `--listen` check reads it too.
    public static let plainHTTPHosts = [ecsHost, "169.254.170.23", "fd00:ec2::23"]

    /// The provider, if the environment names a container endpoint.
    /// - Throws: `IdentityError.misconfigured` for a URI the SDKs would refuse.
    public static func configured(
        in environment: [String: String], transport: any HTTPTransport, retry: RetryPolicy
    ) throws(IdentityError) -> ContainerProvider? {
        let url: EndpointURL
        if let relative = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            let path = relative.hasPrefix("/") ? relative : "/" + relative
            guard let parsed = EndpointURL("http://\(ecsHost)\(path)") else {
                throw IdentityError(
                    .misconfigured, provider: "container", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a valid path")
            }
            url = parsed
        } else if let full = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            url = try fullURI(full)
        } else {
            return nil
        }
        return ContainerProvider(
            url: url, tokenFile: environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            token: environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN"), transport: transport, retry: retry)
    }

    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` checked as the SDKs check it: an http(s) URL, plain
    /// http only to loopback or one of `plainHTTPHosts`.
    /// - Throws: `IdentityError.misconfigured` naming what is accepted.
    public static func fullURI(_ text: String) throws(IdentityError) -> EndpointURL {
        guard let parsed = EndpointURL(text) else {
            throw IdentityError(
                .misconfigured, provider: "container", "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
        }
        guard parsed.scheme == "https" || parsed.isLoopback || plainHTTPHosts.contains(parsed.host) else {
            let others = plainHTTPHosts.dropLast().joined(separator: ", ")
            throw IdentityError(
                .misconfigured, provider: "container",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI uses plain http to \(parsed.host); only loopback, "
                    + "\(others) and \(plainHTTPHosts.last ?? "") may be used without https")
        }
        return parsed
    }

    public func fetch() async throws(IdentityError) -> Credentials {
        var headers: HTTPHeaders = [("Accept", "application/json")]
        if let authorization = try authorizationToken() {
            headers.append("Authorization", authorization)
        }
        let request = HTTPRequest(
            method: "GET", url: url.description, headers: headers, timeout: .seconds(2), connectTimeout: .seconds(1))
        return try await retry.run(shouldRetry: { (error: IdentityError) in error.isRetryable }) {
            (_) throws(IdentityError) in
            let response = try await send(request)
            guard response.status == 200 else {
                let code: IdentityError.Code = response.status == 401 || response.status == 403 ? .denied : .unreachable
                throw IdentityError(
                    code, provider: name, "the endpoint answered HTTP \(response.status)",
                    isRetryable: response.status >= 500 || response.status == 429)
            }
            return try CredentialsDocument.credentials(from: response.body, provider: name)
        }
    }

    private func send(_ request: HTTPRequest) async throws(IdentityError) -> HTTPResponse {
        do {
            return try await transport.send(request)
        } catch {
            throw IdentityError(
                .unreachable, provider: name, "cannot reach \(url.hostHeader): \(error)",
                isRetryable: error.isRetryable, underlying: error
            )
        }
    }

    private func authorizationToken() throws(IdentityError) -> String? {
        let value: String
        if let tokenFile {
            guard let text = FileText.read(tokenFile) else {
                throw IdentityError(
                    .misconfigured, provider: name, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile)")
            }
            value = text
        } else if let token {
            value = token
        } else {
            return nil
        }
        guard !value.isEmpty, !value.contains("\r"), !value.contains("\n") else {
            throw IdentityError(
                .misconfigured, provider: name,
                "the container authorization token is empty or contains a line break")
        }
        return value
    }
}
