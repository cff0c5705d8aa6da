/// The connections open, counted by owner: admits a new one only while its owner is under the
/// per-owner limit and a slot is open to it. Users trusted with the reserve (the server's own user
/// and root: the health probe) may use `reserved` slots beyond `total` that nobody else can take.
/// A connection is counted from its accept to its close, whether the accept loop or libmicrohttpd
/// holds it.
///
/// Thread-safety: a `PthreadLock`; called from the accept loop and from the pool's threads.
final class ConnectionLedger: Sendable {
    /// The limits.
    struct Limits: Sendable {
        /// Connections one owner may hold (0: no limit).
        var perOwner: Int
        /// Connections everybody may hold together, the reserve aside.
        var total: Int
        /// Slots beyond `total` only `privileged` users may take.
        var reserved: Int
        /// The users trusted with the reserve.
        var privileged: Set<UInt32>
    }

    /// One open connection: what a request needs to know of it. Reached from libmicrohttpd's
    /// socket context, retained until the connection closes.
    final class Record: Sendable {
        let id: Int
        let descriptor: Int32
        let owner: ConnectionOwner
        let clientAddress: String
        let clientPort: Int
        /// The target of the request line parsed on this connection (there is one request per connection).
        private let lastTarget = PthreadLock("")

        init(id: Int, descriptor: Int32, owner: ConnectionOwner, clientAddress: String, clientPort: Int) {
            self.id = id
            self.descriptor = descriptor
            self.owner = owner
            self.clientAddress = clientAddress
            self.clientPort = clientPort
        }

        /// The pointer kept in libmicrohttpd's socket context: retained, C owns it until
        /// `release(opaque:)` at the close.
        var retainedOpaque: UnsafeMutableRawPointer { Unmanaged.passRetained(self).toOpaque() }

        /// The record behind a socket context, still retained.
        static func from(opaque: UnsafeMutableRawPointer) -> Record {
            Unmanaged<Record>.fromOpaque(opaque).takeUnretainedValue()
        }

        /// The record behind a socket context, its retain handed back to Swift.
        static func release(opaque: UnsafeMutableRawPointer) -> Record {
            Unmanaged<Record>.fromOpaque(opaque).takeRetainedValue()
        }

        /// A request line was parsed on this connection.
        func sawRequestLine(target: String) {
            lastTarget.withLock { $0 = target }
        }

        /// The target of the request line parsed.
        var requestTarget: String { lastTarget.withLock { $0 } }
    }

    private struct Open {
        let record: Record
        let counted: Bool
    }

    private struct State {
        var nextId = 1
        var open: [Int: Open] = [:]
        /// Connections the accept loop handed to libmicrohttpd, until its notification claims them.
        var handedOver: [Int32: Record] = [:]
        var byOwner: [ConnectionOwner: Int] = [:]
        var total = 0
    }

    private let limits: Limits
    private let state = PthreadLock(State())

    init(_ limits: Limits) {
        self.limits = limits
    }

    /// A connection opened on `descriptor`. Returns its record and, if it may not stay, why (the
    /// caller shuts it down; it is not counted).
    func opened(
        descriptor: Int32, owner: ConnectionOwner, clientAddress: String, clientPort: Int
    ) -> (Record, ConnectionRefusal.Reason?) {
        state.withLock { state in
            let record = Record(
                id: state.nextId, descriptor: descriptor, owner: owner, clientAddress: clientAddress,
                clientPort: clientPort)
            state.nextId += 1
            let held = state.byOwner[owner, default: 0]
            let privileged = owner.uid.map(limits.privileged.contains) ?? false
            let slots = limits.total + (privileged ? limits.reserved : 0)
            let refusal: ConnectionRefusal.Reason? =
                if limits.perOwner > 0 && held >= limits.perOwner {
                    .perClientLimit
                } else if limits.total > 0 && state.total >= slots {
                    .connectionLimit
                } else {
                    nil
                }
            if refusal == nil {
                state.byOwner[owner] = held + 1
                state.total += 1
            }
            state.open[record.id] = Open(record: record, counted: refusal == nil)
            return (record, refusal)
        }
    }

    /// The connection closed: its slot is free again.
    func closed(_ record: Record) {
        state.withLock { Self.release(record, in: &$0) }
    }

    /// The accept loop is handing `record`'s connection to libmicrohttpd, whose notification of
    /// it (on another thread, perhaps before the hand-over returns) will `claim` it. A record still
    /// waiting on the same descriptor is one libmicrohttpd dropped without telling (it closed the
    /// socket before notifying, so the descriptor could be reused): its slot is freed now.
    func handOver(_ record: Record) {
        state.withLock { state in
            if let dropped = state.handedOver.updateValue(record, forKey: record.descriptor) {
                Self.release(dropped, in: &state)
            }
        }
    }

    private static func release(_ record: Record, in state: inout State) {
        guard let entry = state.open.removeValue(forKey: record.id), entry.counted else { return }
        state.total -= 1
        let held = state.byOwner[record.owner, default: 1] - 1
        state.byOwner[record.owner] = held > 0 ? held : nil
    }

    /// The record of the connection handed over on `descriptor`, now libmicrohttpd's to close.
    func claim(descriptor: Int32) -> Record? {
        state.withLock { $0.handedOver.removeValue(forKey: descriptor) }
    }
}
