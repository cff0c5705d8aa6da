/// Typed wrappers for libmicrohttpd's variadic functions and tagged unions, which Swift cannot
/// call: each prefixed `CMicroHTTPDShims_`. Nothing else belongs here: all logic lives in Swift
/// (MicroHTTPServer, the only module that imports this one).
#ifndef CMICROHTTPDSHIMS_H
#define CMICROHTTPDSHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// What `CMicroHTTPDShims_start` passes to `MHD_start_daemon`. Zero means "MHD's default" for each limit.
struct CMicroHTTPDShims_config {
    unsigned int flags;
    /// The address to bind: an IPv4 or IPv6 socket address, or NULL for any address on `port`.
    const struct sockaddr *address;
    uint16_t port;
    unsigned int thread_pool_size;
    unsigned int connection_limit;
    unsigned int per_ip_connection_limit;
    unsigned int connection_timeout_seconds;
    size_t connection_memory_limit;
    /// MHD_OPTION_STRICT_FOR_CLIENT: 0 (what the accept loop lets through, libmicrohttpd parses as it is).
    int strict_for_client;
    /// 1 hands the request target over as sent (MHD_OPTION_UNESCAPE_CALLBACK that keeps `%XX`).
    int keep_escapes;
    MHD_RequestCompletedCallback completed;
    void *completed_context;
    /// MHD_OPTION_URI_LOG_CALLBACK: told of each request line as soon as it is parsed.
    void *(*request_line)(void *context, const char *uri, struct MHD_Connection *connection);
    void *request_line_context;
    /// MHD_OPTION_NOTIFY_CONNECTION: told when each TCP connection opens and closes.
    MHD_NotifyConnectionCallback connection_notify;
    void *connection_notify_context;
};

/// MHD_start_daemon with the options of `config`.
struct MHD_Daemon *CMicroHTTPDShims_start(const struct CMicroHTTPDShims_config *config,
                                          MHD_AccessHandlerCallback handler, void *handler_context);

/// The client's socket address (MHD_get_connection_info, MHD_CONNECTION_INFO_CLIENT_ADDRESS).
const struct sockaddr *CMicroHTTPDShims_client_address(struct MHD_Connection *connection);

/// The socket context set when the connection was notified as started (MHD_CONNECTION_INFO_SOCKET_CONTEXT).
void *CMicroHTTPDShims_socket_context(struct MHD_Connection *connection);

/// The HTTP status of the response queued on the connection (MHD_CONNECTION_INFO_HTTP_STATUS);
/// 0 if none.
unsigned int CMicroHTTPDShims_http_status(struct MHD_Connection *connection);

/// The connection's socket (MHD_CONNECTION_INFO_CONNECTION_FD); -1 if unknown.
int CMicroHTTPDShims_connection_fd(struct MHD_Connection *connection);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC (Glibc's module is built without _GNU_SOURCE, so
/// Swift cannot see accept4; epoll and eventfd, which it also leaves out, come in through the
/// includes above).
int CMicroHTTPDShims_accept(int listener, struct sockaddr *address, socklen_t *length);

/// Names the calling thread (pthread_setname_np, also _GNU_SOURCE only), as `top -H` shows it.
void CMicroHTTPDShims_name_thread(const char *name);

/// A NETLINK_SOCK_DIAG socket for `CMicroHTTPDShims_peer_uid` (answers bounded to 200 ms); -1 if
/// the kernel offers none.
int CMicroHTTPDShims_sock_diag_open(void);

/// The user id owning the other end of the TCP connection on `fd`, asked of the kernel on `diag`
/// (from `CMicroHTTPDShims_sock_diag_open`): the socket whose source is
/// this connection's peer and whose destination is this connection's local address, found with
/// sock_diag (NETLINK_SOCK_DIAG, as `ss -e` does). Only a peer in this network namespace (on
/// loopback: a process on this host or in this pod) can be found. Returns 0 and sets `uid` on
/// success, -1 when the lookup is impossible (no such socket, sock_diag unavailable).
int CMicroHTTPDShims_peer_uid(int diag, int fd, uint32_t *uid);

#endif
