internal import CMicroHTTPD
internal import CMicroHTTPDShims
import Glibc
import Synchronization

/// An HTTP/1.1 server on libmicrohttpd: an accept loop of its own in front (`AcceptLoop`: the
/// per-user ledger, the request-head deadline, and every head checked before libmicrohttpd parses
/// it), then libmicrohttpd's pool of poll threads, requests handed whole to a synchronous
/// `ServerHandler`.
/// One request per connection: every answer says `Connection: close`, so every request's head
/// passes the accept loop. It knows nothing of AWS.
///
/// Thread-safety: `quiesce` and `stop` may be called from any thread; the handler is called
/// concurrently from the pool's threads and the accept loop's.
public final class MicroHTTPServer: Sendable {
    /// How the server listens and what it tolerates.
    public struct Configuration: Sendable {
        /// A literal IPv4 or IPv6 address to bind (no names: nothing is resolved).
        public var host: String
        /// The port; 0 picks a free one (read it back from `port`).
        public var port: UInt16
        /// Threads in libmicrohttpd's pool.
        public var threads: Int
        /// The most connections open at once (beyond them, only `reservedConnections`).
        public var connectionLimit: Int
        /// The most connections open at once from one client: one user (the owner of the
        /// connecting socket, found with sock_diag), or one address where the user cannot be found.
        public var perClientConnectionLimit: Int
        /// Slots beyond `connectionLimit` that only the server's own user and root may take, so a
        /// health probe is answered whatever other users hold.
        public var reservedConnections: Int
        /// How long a new connection has to complete its request head, however slowly it sends;
        /// nil, or longer than the idle timeout: the idle timeout.
        public var requestHeadDeadline: Duration?
        /// Seconds a connection may stay idle before it is closed.
        public var idleTimeoutSeconds: Int
        /// How large a request head may be; a larger one is refused before libmicrohttpd sees it.
        public var headLimits: RequestHead.Limits
        /// Bytes each connection may use for its request line, headers and buffers: at least what
        /// `headLimits` needs (`RequestHead.Limits.connectionMemory`), whatever is asked for here.
        public var connectionMemoryLimit: Int
        /// The largest request body read; a request declaring a larger one (or a chunked one) is
        /// handed to the handler at once, its answer sent, and the connection closed unread.
        public var maxBodyBytes: Int
        /// Hand the path and query arguments over as sent, `%XX` escapes and all, instead of decoded:
        /// a handler that matches names exactly then cannot be reached through an encoding.
        public var keepsEscapes: Bool

        /// Creates a configuration with defaults fit for a loopback sidecar.
        public init(
            host: String, port: UInt16, threads: Int = 2, connectionLimit: Int = 512,
            perClientConnectionLimit: Int = 0, reservedConnections: Int = 0, requestHeadDeadline: Duration? = nil,
            idleTimeoutSeconds: Int = 30, headLimits: RequestHead.Limits = .init(bytes: 8192, fields: 64),
            connectionMemoryLimit: Int = 16 * 1024, maxBodyBytes: Int = 0, keepsEscapes: Bool = false
        ) {
            self.host = host
            self.port = port
            self.threads = threads
            self.connectionLimit = connectionLimit
            self.perClientConnectionLimit = perClientConnectionLimit
            self.reservedConnections = reservedConnections
            self.requestHeadDeadline = requestHeadDeadline
            self.idleTimeoutSeconds = idleTimeoutSeconds
            self.headLimits = headLimits
            self.connectionMemoryLimit = connectionMemoryLimit
            self.maxBodyBytes = maxBodyBytes
            self.keepsEscapes = keepsEscapes
        }

        /// The request-head deadline the accept loop applies: the shorter of it and the idle timeout
        /// (30 s if neither is set).
        var effectiveHeadDeadline: Duration {
            let idle: Duration? = idleTimeoutSeconds > 0 ? .seconds(idleTimeoutSeconds) : nil
            return [requestHeadDeadline, idle].compactMap { $0 }.min() ?? .seconds(30)
        }
    }

    private let daemon: Mutex<Daemon?>
    private let front: AcceptLoop
    private let context: HandlerContext
    /// The bound port.
    public let port: Int

    /// Binds and starts serving with `handler`.
    /// - Throws: `ServerError` if the address is not a literal IP, cannot be bound, or
    ///   libmicrohttpd cannot start.
    public init(_ configuration: Configuration, handler: any ServerHandler) throws(ServerError) {
        let ledger = ConnectionLedger(
            .init(
                perOwner: configuration.perClientConnectionLimit, total: configuration.connectionLimit,
                reserved: configuration.reservedConnections, privileged: [0, geteuid()]))
        let context = HandlerContext(handler: handler, maxBodyBytes: configuration.maxBodyBytes, ledger: ledger)
        self.context = context
        let address = try SocketAddress(host: configuration.host, port: configuration.port)
        let listener = try Self.listen(on: address)
        let slots = configuration.connectionLimit + configuration.reservedConnections
        // poll, not epoll: libmicrohttpd 0.9.75's epoll loop waits a second time, with the full
        // timeout, whenever one wait returned 128 events, and the connections those events were
        // about then sit unserved until some other event or the idle timeout (a stall at 256 busy
        // connections, once every connection is added from outside).
        var config = CMicroHTTPDShims_config(
            flags: UInt32(
                MHD_USE_POLL_INTERNAL_THREAD.rawValue | MHD_USE_ITC.rawValue | MHD_USE_NO_LISTEN_SOCKET.rawValue),
            address: nil, port: 0, thread_pool_size: UInt32(max(1, configuration.threads)),
            // The ledger counts per owner and holds the reserve back; libmicrohttpd's own cap is
            // never the one reached (it frees a slot a little after telling the ledger). 0: none.
            connection_limit: UInt32(clamping: 2 * slots), per_ip_connection_limit: 0,
            connection_timeout_seconds: UInt32(configuration.idleTimeoutSeconds),
            connection_memory_limit: max(
                configuration.connectionMemoryLimit, configuration.headLimits.connectionMemory),
            strict_for_client: 0, keep_escapes: configuration.keepsEscapes ? 1 : 0,
            completed: requestCompleted, completed_context: context.opaque, request_line: requestLineParsed,
            request_line_context: context.opaque, connection_notify: connectionNotification,
            connection_notify_context: context.opaque)
        guard let started = CMicroHTTPDShims_start(&config, accessHandler, context.opaque) else {
            close(listener)
            throw ServerError(.listenFailed, "libmicrohttpd could not start: \(String(cString: strerror(errno)))")
        }
        let daemon = Daemon(started)
        do {
            front = try AcceptLoop(
                listener: listener, ledger: ledger, handler: handler,
                settings: .init(
                    limits: configuration.headLimits,
                    headDeadline: configuration.effectiveHeadDeadline)
            ) { descriptor, address, length in
                MHD_add_connection(daemon.handle, descriptor, address, length) == MHD_Result.YES
            }
        } catch {
            MHD_stop_daemon(started)
            throw error
        }
        port = Self.boundPort(listener)
        self.daemon = Mutex(daemon)
    }

    deinit {
        stop()
    }

    /// Stops accepting new connections; open ones are still served.
    public func quiesce() {
        front.quiesce()
    }

    /// Stops the server: stops accepting, closes the connections whose heads were still arriving,
    /// waits for the pool's threads to finish the requests in hand, then closes every connection.
    /// Idempotent.
    public func stop() {
        front.stop()
        let stopping = daemon.withLock { daemon -> Daemon? in
            defer { daemon = nil }
            return daemon
        }
        if let handle = stopping?.handle { MHD_stop_daemon(handle) }
    }

    /// A listening, non-blocking socket bound to `address` (`SO_REUSEADDR`; IPv6 only on an IPv6
    /// address).
    private static func listen(on address: SocketAddress) throws(ServerError) -> Int32 {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let listener = socket(
            family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else {
            throw ServerError(.listenFailed, "cannot open a socket: \(String(cString: strerror(errno)))")
        }
        var on: Int32 = 1
        _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if address.isIPv6 {
            _ = setsockopt(listener, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = address.withSockaddr { bind(listener, $0, address.length) }
        guard bound == 0, Glibc.listen(listener, SOMAXCONN) == 0 else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw ServerError(
                .listenFailed,
                "cannot listen on \(address): \(reason) (is the port in use, or the address not on this host?)")
        }
        return listener
    }

    private static func boundPort(_ listener: Int32) -> Int {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        guard named == 0 else { return 0 }
        return withUnsafePointer(to: address) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress.describe($0).1 }
        }
    }
}

/// The MHD daemon pointer, owned by `MicroHTTPServer`.
private struct Daemon: @unchecked Sendable {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
}
