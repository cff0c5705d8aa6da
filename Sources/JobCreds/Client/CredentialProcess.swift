import AWSIdentity
import HTTPTransport

/// `jobcreds credential-process`: the sidecar's credentials as a `credential_process` program
/// hands them to the shared config file's readers.
public enum CredentialProcess {
    /// Asks the sidecar `endpoint` names, with its token, and renders the answer.
    /// - Returns: the Version 1 document (`CredentialProcessDocument`).
    /// - Throws: `JobCredsError.unavailable` when the sidecar cannot be reached or refuses.
    public static func document(
        for endpoint: ContainerEndpoint, transport: any HTTPTransport
    ) async throws(JobCredsError) -> String {
        let provider: ContainerProvider?
        do {
            provider = try ContainerProvider.configured(
                in: [
                    ContainerEndpoint.urlVariable: endpoint.url.description,
                    ContainerEndpoint.tokenFileVariable: endpoint.tokenFile,
                ], transport: transport, retry: RetryPolicy(maxAttempts: 3))
        } catch {
            throw JobCredsError(.usage, error.message, underlying: error)
        }
        guard let provider else { throw JobCredsError(.usage, "\(ContainerEndpoint.urlVariable) is not set") }
        do {
            return CredentialProcessDocument.render(try await provider.fetch())
        } catch {
            throw JobCredsError(.unavailable, "the sidecar did not hand out credentials: \(error)", underlying: error)
        }
    }
}
