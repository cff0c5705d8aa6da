internal import CMicroHTTPDShims
import Dispatch
import Glibc
import Synchronization

/// The server's front door, one thread with its own epoll set: it accepts each connection, finds
/// the user owning the peer's socket and counts the connection in the ledger (or refuses it), then
/// reads its request head with `MSG_PEEK` until the head is whole. A head `RequestHead` accepts is
/// handed to libmicrohttpd (`handOver`), which reads it again and answers it; any other head is
/// answered here with the handler's refusal, and a connection whose head is not whole by the
/// deadline is closed. So libmicrohttpd only ever parses heads it will not refuse, and never sends
/// a page of its own.
///
/// A refused connection is shut down for writing, then read and discarded for up to a second (or
/// a megabyte) before it is closed, so that the client reads the answer instead of a reset.
///
/// Idle, the thread sleeps in `epoll_wait` without a timeout: no wake-ups while nobody connects.
///
/// Thread-safety: the connections are touched only by the loop's thread; `quiesce` and `stop` may
/// be called from any thread.
final class AcceptLoop: @unchecked Sendable {
    /// How the loop treats connections.
    struct Settings {
        var limits: RequestHead.Limits
        /// How long a connection has for its whole head.
        var headDeadline: Duration
    }

    /// Hands a connection with a whole, accepted head to libmicrohttpd; false if it refused it
    /// (it closed the socket either way).
    typealias HandOver = @Sendable (Int32, UnsafePointer<sockaddr>, socklen_t) -> Bool

    private enum Stage {
        case head
        case lingering(drained: Int)
    }

    private struct Connection {
        let descriptor: Int32
        let record: ConnectionLedger.Record
        let address: sockaddr_storage
        let addressLength: socklen_t
        var stage: Stage
    }

    private static let listenerKey: UInt64 = 0
    private static let wakeKey: UInt64 = 1
    private static let lingerTime: UInt64 = 1_000_000_000
    private static let lingerBytes = 1 << 20
    private static let acceptBatch = 10

    private let listener: Int32
    private let epoll: Int32
    private let wake: Int32
    /// The sock_diag socket the owners of connections are asked on (-1: none, owners are addresses).
    private let diag: Int32
    private let ledger: ConnectionLedger
    private let handler: any ServerHandler
    private let settings: Settings
    private let headDeadline: UInt64
    private let handOver: HandOver
    private let peek: UnsafeMutableRawBufferPointer
    private let command = Atomic<Int>(0)  // 1: stop accepting; 2: stop
    private let acknowledged = DispatchSemaphore(value: 0)
    private var thread = pthread_t()

    // The loop thread's own.
    private var connections: [UInt64: Connection] = [:]
    private var heads = DeadlineQueue()
    private var lingering = DeadlineQueue()
    private var nextKey: UInt64 = 2
    private var listening = true
    private var acceptPausedUntil: UInt64?

    /// Starts the loop on `listener` (a listening, non-blocking socket it then owns).
    /// - Throws: `ServerError` if the epoll set or the thread cannot be made.
    init(
        listener: Int32, ledger: ConnectionLedger, handler: any ServerHandler, settings: Settings,
        handOver: @escaping HandOver
    ) throws(ServerError) {
        self.listener = listener
        self.ledger = ledger
        self.handler = handler
        self.settings = settings
        let (seconds, attoseconds) = settings.headDeadline.components
        headDeadline = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        self.handOver = handOver
        peek = .allocate(byteCount: settings.limits.bytes + 1, alignment: 16)
        diag = CMicroHTTPDShims_sock_diag_open()
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard epoll >= 0, wake >= 0, Self.watch(epoll, listener, Self.listenerKey, EPOLLIN.rawValue),
            Self.watch(epoll, wake, Self.wakeKey, EPOLLIN.rawValue)
        else {
            let reason = String(cString: strerror(errno))
            close(listener)
            if epoll >= 0 { close(epoll) }
            if wake >= 0 { close(wake) }
            if diag >= 0 { close(diag) }
            peek.deallocate()
            throw ServerError(.listenFailed, "cannot watch the listening socket: \(reason)")
        }
        let started = pthread_create(
            &thread, nil,
            { context in
                guard let context else { return nil }
                Unmanaged<AcceptLoop>.fromOpaque(context).takeRetainedValue().run()
                return nil
            }, Unmanaged.passRetained(self).toOpaque())
        guard started == 0 else {
            close(listener)
            close(epoll)
            close(wake)
            if diag >= 0 { close(diag) }
            peek.deallocate()
            throw ServerError(.listenFailed, "cannot start the accept thread: \(String(cString: strerror(started)))")
        }
    }

    deinit {
        peek.deallocate()
    }

    /// Stops accepting and closes the listening socket; heads already arriving are still read.
    /// Returns once the socket is closed.
    func quiesce() { send(1) }

    /// Stops the loop: closes the listening socket and every connection not handed over yet, and
    /// joins the thread. Idempotent.
    func stop() {
        guard command.exchange(2, ordering: .acquiringAndReleasing) != 2 else { return }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
        pthread_join(thread, nil)
        close(wake)
    }

    private func send(_ order: Int) {
        guard command.compareExchange(expected: 0, desired: order, ordering: .acquiringAndReleasing).exchanged
        else { return }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
        _ = acknowledged.wait(timeout: .now() + .seconds(2))  // bounded, should the loop have ended
    }

    // MARK: - The loop

    private func run() {
        CMicroHTTPDShims_name_thread("jobcreds-accept")
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let ready = epoll_wait(epoll, events, Int32(capacity), timeout())
            guard ready >= 0 || errno == EINTR else { break }
            for index in 0..<Int(max(0, ready)) {
                let key = events[index].data.u64
                let flags = events[index].events
                switch key {
                case Self.listenerKey: acceptAll()
                case Self.wakeKey: if obey() { return finish() }
                default: serve(key, flags: flags)
                }
            }
            expire()
        }
        finish()
    }

    /// Acts on `command`; true when the loop is to end.
    private func obey() -> Bool {
        var count: UInt64 = 0
        _ = read(wake, &count, 8)
        let order = command.load(ordering: .acquiring)
        if order >= 1, listening {
            listening = false
            close(listener)  // also leaves the epoll set
            if order == 1 { acknowledged.signal() }
        }
        return order == 2
    }

    /// Closes what the loop still holds.
    private func finish() {
        if listening {
            listening = false
            close(listener)
        }
        for key in Array(connections.keys) { drop(key) }
        close(epoll)
        if diag >= 0 { close(diag) }
    }

    /// Milliseconds until the next deadline; -1 (sleep until something happens) if none.
    private func timeout() -> Int32 {
        // No array for the minimum: this runs before every wait.
        guard let next = Self.earliest(Self.earliest(heads.first, lingering.first), acceptPausedUntil) else {
            return -1
        }
        let now = Self.monotonicNow()
        guard next > now else { return 0 }
        return Int32(min(60_000, (next - now + 999_999) / 1_000_000))
    }

    private func expire() {
        let now = Self.monotonicNow()
        while let key = heads.pop(dueBy: now) {
            guard let connection = connections[key], case .head = connection.stage else { continue }
            handler.connectionRefused(refusal(.noRequestHead, connection.record))
            drop(key)
        }
        while let key = lingering.pop(dueBy: now) {
            guard let connection = connections[key], case .lingering = connection.stage else { continue }
            drop(key)
        }
        if let paused = acceptPausedUntil, paused <= now {
            acceptPausedUntil = nil
            if listening { _ = Self.watch(epoll, listener, Self.listenerKey, EPOLLIN.rawValue) }
        }
    }

    // MARK: - Connections

    /// Accepts what is waiting, at most `acceptBatch` at a time: the listening socket stays ready,
    /// so the rest comes on the next turn, after the heads already in (a burst is taken in turns,
    /// as libmicrohttpd takes it, and does not all count against its owner at once).
    private func acceptAll() {
        for _ in 0..<Self.acceptBatch where listening {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let descriptor = withUnsafeMutablePointer(to: &address) { storage in
                storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    CMicroHTTPDShims_accept(listener, pointer, &length)
                }
            }
            guard descriptor >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK {
                    // Out of descriptors or memory: stop accepting for 100 ms instead of spinning.
                    _ = epoll_ctl(epoll, EPOLL_CTL_DEL, listener, nil)
                    acceptPausedUntil = Self.monotonicNow() + 100_000_000
                }
                return
            }
            admit(descriptor, address: address, length: length)
        }
    }

    private func admit(_ descriptor: Int32, address: sockaddr_storage, length: socklen_t) {
        let (clientAddress, clientPort) = withUnsafePointer(to: address) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1, SocketAddress.describe)
        }
        let owner = ConnectionOwner.of(descriptor, diag: diag) ?? .address(clientAddress)
        let (record, refused) = ledger.opened(
            descriptor: descriptor, owner: owner, clientAddress: clientAddress, clientPort: clientPort)
        if let refused {
            handler.connectionRefused(refusal(refused, record))
            ledger.closed(record)
            close(descriptor)
            return
        }
        let key = nextKey
        nextKey += 1
        guard Self.watch(epoll, descriptor, key, EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue) else {
            ledger.closed(record)
            close(descriptor)
            return
        }
        connections[key] = Connection(
            descriptor: descriptor, record: record, address: address, addressLength: length, stage: .head)
        heads.push(key, due: Self.monotonicNow() + headDeadline)
        serve(key, flags: 0)  // in a burst the head is often in already: hand it over at once
    }

    private func serve(_ key: UInt64, flags: UInt32) {
        guard let connection = connections[key] else { return }
        if case .lingering(let drained) = connection.stage { return linger(key, drained: drained) }
        let received = recv(connection.descriptor, peek.baseAddress, peek.count, Int32(MSG_PEEK | MSG_DONTWAIT))
        if received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return drop(key)  // gone before a head: nothing to answer
        }
        guard received > 0 else { return }
        let scan = RequestHead.scan(UnsafeRawBufferPointer(rebasing: peek[..<received]), limits: settings.limits)
        switch scan {
        case .complete:
            handOver(key, connection)
        case .refused(let reason, let line):
            refuse(key, connection, reason: reason, line: line)
        case .incomplete(let line):
            // The client ended its side half-way through a head: nothing more will come.
            guard flags & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 else { return }
            if let line { refuse(key, connection, reason: .malformed, line: line) } else { drop(key) }
        }
    }

    private func handOver(_ key: UInt64, _ connection: Connection) {
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, connection.descriptor, nil)
        connections[key] = nil
        ledger.handOver(connection.record)
        let accepted = withUnsafePointer(to: connection.address) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                handOver(connection.descriptor, address, connection.addressLength)
            }
        }
        if !accepted, let record = ledger.claim(descriptor: connection.descriptor) {
            // libmicrohttpd closed the socket (its own limit, or no memory): the slot is free again.
            handler.connectionRefused(refusal(.connectionLimit, record))
            ledger.closed(record)
        }
    }

    private func refuse(_ key: UInt64, _ connection: Connection, reason: RefusedRequest.Reason, line: RequestHead.Line?)
    {
        let record = connection.record
        let response = handler.refuse(
            RefusedRequest(
                reason: reason, line: line, owner: record.owner, clientAddress: record.clientAddress,
                clientPort: record.clientPort))
        let bytes = ResponseText.bytes(of: response, withBody: line?.method != "HEAD")
        _ = bytes.withUnsafeBytes {
            Glibc.send(connection.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        _ = shutdown(connection.descriptor, Int32(SHUT_WR))
        connections[key]?.stage = .lingering(drained: 0)
        lingering.push(key, due: Self.monotonicNow() + Self.lingerTime)
        linger(key, drained: 0)
    }

    /// Reads and discards what a refused client still sends, until it closes, a megabyte, or the
    /// linger deadline.
    private func linger(_ key: UInt64, drained: Int) {
        guard let connection = connections[key] else { return }
        var total = drained
        while total <= Self.lingerBytes {
            let received = recv(connection.descriptor, peek.baseAddress, peek.count, Int32(MSG_DONTWAIT))
            if received > 0 {
                total += received
                continue
            }
            if received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                connections[key]?.stage = .lingering(drained: total)
                return
            }
            break
        }
        drop(key)
    }

    /// Closes a connection the loop still holds, and frees its slot. What it sent and nobody read
    /// is read first, so that the close is a FIN, not a reset.
    private func drop(_ key: UInt64) {
        guard let connection = connections.removeValue(forKey: key) else { return }
        var discarded = 0
        while discarded < Self.lingerBytes {
            let received = recv(connection.descriptor, peek.baseAddress, peek.count, Int32(MSG_DONTWAIT))
            guard received > 0 else { break }
            discarded += received
        }
        close(connection.descriptor)  // also leaves the epoll set
        ledger.closed(connection.record)
    }

    private func refusal(_ reason: ConnectionRefusal.Reason, _ record: ConnectionLedger.Record) -> ConnectionRefusal {
        ConnectionRefusal(
            reason: reason, owner: record.owner, clientAddress: record.clientAddress, clientPort: record.clientPort)
    }

    // MARK: - System calls

    private static func watch(_ epoll: Int32, _ descriptor: Int32, _ key: UInt64, _ events: UInt32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.u64 = key
        return epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0
    }

    private static func earliest(_ one: UInt64?, _ other: UInt64?) -> UInt64? {
        guard let one else { return other }
        guard let other else { return one }
        return min(one, other)
    }

    private static func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// Keys in the order their deadlines fall (each queue has one fixed delay, so that is the order
/// they were pushed in); a key whose connection has moved on is skipped when it comes up.
private struct DeadlineQueue {
    private var entries: [(due: UInt64, key: UInt64)] = []
    private var start = 0

    var first: UInt64? { start < entries.count ? entries[start].due : nil }

    mutating func push(_ key: UInt64, due: UInt64) {
        if start > 64 && start * 2 > entries.count {
            entries.removeFirst(start)
            start = 0
        }
        entries.append((due, key))
    }

    mutating func pop(dueBy now: UInt64) -> UInt64? {
        guard start < entries.count, entries[start].due <= now else { return nil }
        start += 1
        return entries[start - 1].key
    }
}
