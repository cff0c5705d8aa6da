import AWSSigning
import HTTPTransport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The standard AWS credential chain, in the SDKs' order: environment, shared profile files,
/// web identity, container endpoint, EC2 instance metadata (IMDSv2).
///
/// The first provider whose configuration is present wins, and its errors are reported as they
/// are (a misconfigured provider is never silently skipped). Instance metadata is the fallback
/// when nothing is configured; if it cannot be reached, the error says that no credentials were
/// found anywhere and what was looked at.
public enum CredentialChain {
    /// Picks the provider for `environment`.
    /// - Parameters:
    ///   - region: the resolved region, for the STS endpoint.
    ///   - transport: the HTTP transport the network providers use.
    ///   - retry: the retry policy of the network providers.
    ///   - now: the current time (for a default web identity session name).
    /// - Throws: `IdentityError` when a provider is misconfigured, or when IMDS is disabled and
    ///   nothing else is configured.
    public static func resolve(
        environment: [String: String], region: String?, transport: any HTTPTransport,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 3, base: .milliseconds(200), cap: .seconds(2)), now: Date
    ) throws(IdentityError) -> any CredentialProvider {
        if let provider = try EnvironmentProvider.configured(in: environment) { return provider }
        if let provider = try ProfileProvider.configured(in: environment) { return provider }
        if let provider = try WebIdentityProvider.configured(
            in: environment, region: region, transport: transport, retry: retry, now: now)
        {
            return provider
        }
        if let provider = try ContainerProvider.configured(in: environment, transport: transport, retry: retry) {
            return provider
        }
        let lookedAt =
            "AWS_ACCESS_KEY_ID is unset; profile '\(environment.nonEmpty("AWS_PROFILE") ?? "default")' "
            + "is not in the shared files; AWS_WEB_IDENTITY_TOKEN_FILE is unset; "
            + "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI are unset"
        guard
            let metadata = InstanceMetadataProvider.configured(
                in: environment, transport: transport, retry: RetryPolicy(maxAttempts: 2, sleep: retry.sleep))
        else {
            throw IdentityError(
                .noCredentials, provider: "chain",
                "no AWS credentials found: \(lookedAt); instance metadata is disabled (AWS_EC2_METADATA_DISABLED)")
        }
        return InstanceMetadataFallback(metadata: metadata, lookedAt: lookedAt)
    }

    /// The region: `flag` (`--region`), then `AWS_REGION`, then `AWS_DEFAULT_REGION`.
    public static func region(flag: String?, environment: [String: String]) -> String? {
        if let flag, !flag.isEmpty { return flag }
        return environment.nonEmpty("AWS_REGION") ?? environment.nonEmpty("AWS_DEFAULT_REGION")
    }
}
