import Synchronization

/// Which user a build runs as, and the handing out of users when each build gets its own.
public enum BuildUsers: Sendable, Equatable {
    /// As the worker itself.
    case worker
    /// As one user (`--build-user`), every build alike.
    case user(uid: UInt32, gid: UInt32)
    /// Each running build on a uid of this range no other running build has (`--build-uid-range`);
    /// its group is the uid.
    case range(ClosedRange<UInt32>)

    /// Whether each build has a user of its own, so that builds cannot reach each other.
    public var isolated: Bool {
        if case .range = self { return true }
        return false
    }

    /// The most builds the range can run at once (nil: no limit from the users).
    public var capacity: Int? {
        if case .range(let range) = self { return range.count }
        return nil
    }
}

/// The uids of a range in use by running builds. Thread-safe.
final class UserPool: Sendable {
    private let users: BuildUsers
    private let taken = Mutex<Set<UInt32>>([])

    init(_ users: BuildUsers) { self.users = users }

    /// A user for a build: (uid, gid), nil for the worker's own; nil too when every uid of the
    /// range is taken (the worker never polls for more builds than the range has).
    func take() -> (uid: UInt32, gid: UInt32)?? {
        switch users {
        case .worker: return .some(nil)
        case .user(let uid, let gid): return .some((uid, gid))
        case .range(let range):
            return taken.withLock { taken in
                guard let free = range.first(where: { !taken.contains($0) }) else { return nil }
                taken.insert(free)
                return .some((free, free))
            }
        }
    }

    /// Marks `uid` taken (a build the journal says may still run), if it is of the range.
    func hold(_ uid: UInt32) {
        guard case .range(let range) = users, range.contains(uid) else { return }
        _ = taken.withLock { $0.insert(uid) }
    }

    /// Gives back a uid of the range.
    func release(_ uid: UInt32?) {
        guard let uid, case .range = users else { return }
        _ = taken.withLock { $0.remove(uid) }
    }
}
