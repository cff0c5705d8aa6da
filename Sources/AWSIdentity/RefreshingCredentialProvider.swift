import AWSSigning
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Caches a provider's credentials and fetches new ones before they expire, with exactly one
/// fetch in flight however many callers ask. A failed refresh keeps returning the cached
/// credentials while they are still valid.
///
/// Thread-safety: an actor.
public actor RefreshingCredentialProvider: CredentialsSource {
    private typealias Fetch = Task<Result<Credentials, IdentityError>, Never>

    /// Where the cache stands (the sidecar's `CredentialCache.State` has the same shape).
    private enum State {
        /// Nothing fetched, or the last fetch failed with nothing cached.
        case empty
        /// The first fetch is in flight; callers wait for it.
        case fetching(Fetch)
        /// Credentials are cached (a failed refresh leaves the previous ones here).
        case fresh(Credentials)
        /// Cached credentials are near expiry and a refresh is in flight; callers wait for it.
        case refreshing(Credentials, Fetch)

        var cached: Credentials? {
            switch self {
            case .fresh(let credentials), .refreshing(let credentials, _): credentials
            case .empty, .fetching: nil
            }
        }

        var fetch: Fetch? {
            switch self {
            case .fetching(let fetch), .refreshing(_, let fetch): fetch
            case .empty, .fresh: nil
            }
        }

        /// The same state holding `credentials` instead, with any fetch in flight kept.
        func holding(_ credentials: Credentials) -> State {
            fetch.map { .refreshing(credentials, $0) } ?? .fresh(credentials)
        }
    }

    private let provider: any CredentialProvider
    private let clock: any WallClock
    private let refreshWindow: TimeInterval
    private let logger: Logger
    private var state = State.empty

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
        let fetch: Fetch
        switch state {
        case .fresh(let cached) where !needsRefresh(cached, now: clock.now):
            return cached
        case .fresh(let cached):
            fetch = start()
            state = .refreshing(cached, fetch)
        case .empty:
            fetch = start()
            state = .fetching(fetch)
        case .fetching(let inFlight), .refreshing(_, let inFlight):
            fetch = inFlight
        }
        let result = await fetch.value
        // Every caller that waited on this fetch gets here; the state may have moved meanwhile.
        let previous = state.cached
        let finished = state.fetch == fetch
        switch result {
        case .success(let fresh):
            if previous?.accessKeyId != fresh.accessKeyId || previous?.expiration != fresh.expiration {
                logger.info(
                    "own credentials refreshed",
                    metadata: [
                        "provider": "\(provider.name)", "accessKeyId": "\(fresh.accessKeyId)",
                        "expiration": "\(fresh.expiration.map { AWSDate.iso8601($0) } ?? "none")",
                    ])
            }
            state = finished ? .fresh(fresh) : state.holding(fresh)
            return fresh
        case .failure(let error):
            if finished { state = previous.map { .fresh($0) } ?? .empty }
            if let previous, previous.expiration.map({ clock.now < $0 }) ?? true {
                logger.warning(
                    "own credentials refresh failed; using the cached ones until they expire",
                    metadata: ["provider": "\(provider.name)", "error": "\(error)"])
                return previous
            }
            throw error
        }
    }

    private func start() -> Fetch {
        let provider = provider
        return Task { await Self.fetch(provider) }
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
