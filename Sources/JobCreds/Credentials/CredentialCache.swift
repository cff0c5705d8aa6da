import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The artifact credentials in memory, and the refresh state around them.
///
/// Requests only read it; only the `Refresher` moves it from state to state. A snapshot is served
/// until its `servableUntil`, whatever the state: a failed refresh does not take valid
/// credentials away, and expired ones are never served.
///
/// Thread-safety: a `Mutex`; reads are short and never wait on the network.
public final class CredentialCache: Sendable {
    /// Where the refresh stands.
    public enum State: Sendable {
        /// Nothing fetched and no fetch begun.
        case empty
        /// The first fetch is in flight.
        case fetching
        /// Credentials are cached and the last fetch succeeded.
        case fresh(CredentialSnapshot)
        /// A refresh is in flight; the cached credentials are served meanwhile.
        case refreshing(CredentialSnapshot)
        /// The last fetch failed; the snapshot (if any) is served while still valid.
        case failed(CredentialSnapshot?, reason: String)
        /// CodePipeline says the job is over: nothing is served any more.
        case jobEnded(reason: String)

        /// The cached snapshot, if any is kept.
        public var snapshot: CredentialSnapshot? {
            switch self {
            case .fresh(let snapshot), .refreshing(let snapshot): snapshot
            case .failed(let snapshot, _): snapshot
            case .empty, .fetching, .jobEnded: nil
            }
        }
    }

    /// What a request gets.
    public enum Lookup: Sendable {
        /// Serve these.
        case serve(CredentialSnapshot)
        /// Nothing valid is cached (yet, or any more); the reason is safe to show.
        case unavailable(reason: String)
        /// The job is over.
        case jobEnded
    }

    private let state = Mutex<State>(.empty)

    /// Creates an empty cache.
    public init() {}

    /// The current state.
    public var current: State { state.withLock { $0 } }

    /// What to answer a request at `now`.
    public func lookup(at now: Date) -> Lookup {
        state.withLock { state in
            if case .jobEnded = state { return .jobEnded }
            guard let snapshot = state.snapshot else {
                return .unavailable(reason: "credentials have not been fetched yet")
            }
            guard now < snapshot.servableUntil else {
                return .unavailable(reason: "the cached credentials are about to expire and could not be refreshed")
            }
            return .serve(snapshot)
        }
    }

    /// A fetch begins. Ignored once the job has ended.
    public func beginFetch() {
        state.withLock { state in
            switch state {
            case .empty, .failed(nil, _): state = .fetching
            case .fresh(let snapshot), .refreshing(let snapshot), .failed(let snapshot?, _):
                state = .refreshing(snapshot)
            case .fetching, .jobEnded: break
            }
        }
    }

    /// A fetch succeeded. Ignored once the job has ended.
    public func store(_ snapshot: CredentialSnapshot) {
        state.withLock { state in
            if case .jobEnded = state { return }
            state = .fresh(snapshot)
        }
    }

    /// A fetch failed; the snapshot is kept for as long as it is valid.
    public func fetchFailed(reason: String) {
        state.withLock { state in
            if case .jobEnded = state { return }
            state = .failed(state.snapshot, reason: reason)
        }
    }

    /// The job is over: the snapshot is dropped for good.
    public func endJob(reason: String) {
        state.withLock { $0 = .jobEnded(reason: reason) }
    }
}
