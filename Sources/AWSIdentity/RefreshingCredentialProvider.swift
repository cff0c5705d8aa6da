import AWSSigning
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Caches a provider's credentials and fetches new ones before they expire, with exactly one
/// fetch in flight however many callers ask.
///
/// States: empty → fetching → fresh → (refresh window) refreshing while still valid → fresh, or
/// failed. A failed refresh keeps returning the cached credentials while they are still valid.
///
/// Thread-safety: an actor.
public actor RefreshingCredentialProvider {
    private let provider: any CredentialProvider
    private let clock: any WallClock
    private let refreshWindow: TimeInterval
    private let logger: Logger
    private var cached: Credentials?
    private var inFlight: Task<Result<Credentials, IdentityError>, Never>?

    /// The wrapped provider's name.
    public nonisolated var name: String { provider.name }

    /// Wraps `provider`.
    /// - Parameter refreshWindow: how long before expiry a refresh starts (the SDKs use 5 minutes).
    public init(
        _ provider: any CredentialProvider, clock: any WallClock, refreshWindow: Duration = .seconds(300),
        logger: Logger = Logger(label: "jobcreds.identity")
    ) {
        self.provider = provider
        self.clock = clock
        self.refreshWindow = TimeInterval(refreshWindow.components.seconds)
        self.logger = logger
    }

    /// Credentials valid now, fetched only when the cached ones are missing or near expiry.
    public func credentials() async throws(IdentityError) -> Credentials {
        let now = clock.now
        if let cached, !needsRefresh(cached, now: now) { return cached }
        let task: Task<Result<Credentials, IdentityError>, Never>
        if let inFlight {
            task = inFlight
        } else {
            let provider = provider
            task = Task { await Self.fetch(provider) }
            inFlight = task
        }
        let result = await task.value
        if inFlight == task { inFlight = nil }
        switch result {
        case .success(let fresh):
            if cached?.accessKeyId != fresh.accessKeyId || cached?.expiration != fresh.expiration {
                logger.info(
                    "own credentials refreshed",
                    metadata: [
                        "provider": "\(provider.name)", "accessKeyId": "\(fresh.accessKeyId)",
                        "expiration": "\(fresh.expiration.map(AWSDate.iso8601) ?? "none")",
                    ])
            }
            cached = fresh
            return fresh
        case .failure(let error):
            if let cached, cached.expiration.map({ clock.now < $0 }) ?? true {
                logger.warning(
                    "own credentials refresh failed; using the cached ones until they expire",
                    metadata: ["provider": "\(provider.name)", "error": "\(error)"])
                return cached
            }
            throw error
        }
    }

    private static func fetch(_ provider: any CredentialProvider) async -> Result<Credentials, IdentityError> {
        do {
            return .success(try await provider.fetch())
        } catch {
            return .failure(error)
        }
    }

    private func needsRefresh(_ credentials: Credentials, now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return now >= expiration.addingTimeInterval(-refreshWindow)
    }
}
