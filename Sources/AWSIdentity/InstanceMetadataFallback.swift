import AWSSigning

/// IMDS as the chain's last resort: "unreachable" there means "no credentials anywhere".
struct InstanceMetadataFallback: CredentialProvider {
    let metadata: InstanceMetadataProvider
    let lookedAt: String
    var name: String { metadata.name }

    func fetch() async throws(IdentityError) -> Credentials {
        do {
            return try await metadata.fetch()
        } catch  where error.code == .unreachable {
            throw IdentityError(
                .noCredentials, provider: "chain",
                "no AWS credentials found: \(lookedAt); and \(error.message)", isRetryable: error.isRetryable,
                underlying: error)
        }
    }
}
