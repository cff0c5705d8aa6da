internal import CMicroHTTPD
internal import CMicroHTTPDShims
import Glibc
import Synchronization

/// An HTTP/1.1 server on libmicrohttpd: epoll with a small thread pool, requests handed whole to a
/// synchronous `ServerHandler`. It knows nothing of AWS.
///
/// Thread-safety: `quiesce` and `stop` may be called from any thread; the handler is called
/// concurrently from the pool's threads.
public final class MicroHTTPServer: Sendable {
    /// How the server listens and what it tolerates.
    public struct Configuration: Sendable {
        /// A literal IPv4 or IPv6 address to bind (no names: nothing is resolved).
        public var host: String
        /// The port; 0 picks a free one (read it back from `port`).
        public var port: UInt16
        /// Threads in the epoll pool.
        public var threads: Int
        /// The most connections open at once (beyond them, only `reservedConnections`).
        public var connectionLimit: Int
        /// The most connections open at once from one client: one user (the owner of the
        /// connecting socket, found with sock_diag), or one address where the user cannot be found.
        public var perClientConnectionLimit: Int
        /// Slots beyond `connectionLimit` that only the server's own user and root may take, so a
        /// health probe is answered whatever other users hold.
        public var reservedConnections: Int
        /// How long a new connection has to complete its first request head, however slowly it
        /// sends; nil: only the idle timeout applies.
        public var requestHeadDeadline: Duration?
        /// Seconds a connection may stay idle before it is closed.
        public var idleTimeoutSeconds: Int
        /// Bytes each connection may use for its request line, headers and buffers; MHD itself
        /// answers 431 past it, without calling the handler.
        public var connectionMemoryLimit: Int
        /// The largest request body read; a request declaring a larger one (or a chunked one) is
        /// handed to the handler at once, its answer sent, and the connection closed unread.
        public var maxBodyBytes: Int
        /// Reject HTTP/1.1 without `Host`, and spaces in the request target (MHD's strict mode).
        public var strictParsing: Bool
        /// Hand the path and query arguments over as sent, `%XX` escapes and all, instead of decoded:
        /// a handler that matches names exactly then cannot be reached through an encoding.
        public var keepsEscapes: Bool

        /// Creates a configuration with defaults fit for a loopback sidecar.
        public init(
            host: String, port: UInt16, threads: Int = 2, connectionLimit: Int = 512,
            perClientConnectionLimit: Int = 0, reservedConnections: Int = 0, requestHeadDeadline: Duration? = nil,
            idleTimeoutSeconds: Int = 30, connectionMemoryLimit: Int = 32 * 1024, maxBodyBytes: Int = 0,
            strictParsing: Bool = true, keepsEscapes: Bool = false
        ) {
            self.host = host
            self.port = port
            self.threads = threads
            self.connectionLimit = connectionLimit
            self.perClientConnectionLimit = perClientConnectionLimit
            self.reservedConnections = reservedConnections
            self.requestHeadDeadline = requestHeadDeadline
            self.idleTimeoutSeconds = idleTimeoutSeconds
            self.connectionMemoryLimit = connectionMemoryLimit
            self.maxBodyBytes = maxBodyBytes
            self.strictParsing = strictParsing
            self.keepsEscapes = keepsEscapes
        }
    }

    private let daemon: Mutex<Daemon?>
    private let context: HandlerContext
    /// The bound port.
    public let port: Int

    /// Binds and starts serving with `handler`.
    /// - Throws: `ServerError` if the address is not a literal IP or MHD cannot bind it.
    public init(_ configuration: Configuration, handler: any ServerHandler) throws(ServerError) {
        let ledger = ConnectionLedger(
            .init(
                perOwner: configuration.perClientConnectionLimit, total: configuration.connectionLimit,
                reserved: configuration.reservedConnections, privileged: [0, geteuid()]))
        let context = HandlerContext(
            handler: handler, maxBodyBytes: configuration.maxBodyBytes, ledger: ledger,
            requestHeadDeadline: configuration.requestHeadDeadline)
        self.context = context
        let address = try SocketAddress(host: configuration.host, port: configuration.port)
        var flags = MHD_USE_EPOLL_INTERNAL_THREAD.rawValue | MHD_USE_ITC.rawValue
        if address.isIPv6 { flags |= MHD_USE_IPv6.rawValue }
        let started = address.withSockaddr { sockaddr in
            var config = CMicroHTTPDShims_config(
                flags: UInt32(flags), address: sockaddr, port: configuration.port,
                thread_pool_size: UInt32(max(1, configuration.threads)),
                // The ledger counts per owner and holds the reserve back; libmicrohttpd only caps the total.
                connection_limit: UInt32(configuration.connectionLimit + configuration.reservedConnections),
                per_ip_connection_limit: 0,
                connection_timeout_seconds: UInt32(configuration.idleTimeoutSeconds),
                connection_memory_limit: configuration.connectionMemoryLimit,
                strict_for_client: configuration.strictParsing ? 1 : 0,
                keep_escapes: configuration.keepsEscapes ? 1 : 0,
                completed: requestCompleted, completed_context: context.opaque, request_line: requestLineParsed,
                request_line_context: context.opaque, connection_notify: connectionNotification,
                connection_notify_context: context.opaque)
            return CMicroHTTPDShims_start(&config, accessHandler, context.opaque)
        }
        guard let started else {
            throw ServerError(
                .listenFailed,
                "cannot listen on \(address): \(String(cString: strerror(errno))) (is the port in use, or the "
                    + "address not on this host?)")
        }
        port = Int(CMicroHTTPDShims_bound_port(started))
        daemon = Mutex(Daemon(started))
    }

    deinit {
        stop()
    }

    /// Stops accepting new connections; open ones are still served.
    public func quiesce() {
        daemon.withLock { daemon in
            if let handle = daemon?.handle { _ = MHD_quiesce_daemon(handle) }
        }
    }

    /// Stops the server: waits for the pool's threads to finish the requests in hand, then closes
    /// every connection. Idempotent.
    public func stop() {
        let stopping = daemon.withLock { daemon -> Daemon? in
            defer { daemon = nil }
            return daemon
        }
        if let handle = stopping?.handle { MHD_stop_daemon(handle) }
    }
}

/// The MHD daemon pointer, owned by `MicroHTTPServer`.
private struct Daemon: @unchecked Sendable {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
}
