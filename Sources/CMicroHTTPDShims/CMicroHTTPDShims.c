#define _GNU_SOURCE
#include "CMicroHTTPDShims.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/// The unescaper that unescapes nothing: paths and arguments arrive as sent.
static size_t keep_escapes(void *cls, struct MHD_Connection *connection, char *value) {
    (void)cls;
    (void)connection;
    return strlen(value);
}

struct MHD_Daemon *CMicroHTTPDShims_start(const struct CMicroHTTPDShims_config *config,
                                          MHD_AccessHandlerCallback handler, void *handler_context) {
    struct MHD_OptionItem options[13];
    size_t n = 0;
    if (config->address != NULL) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)config->address};
    }
    if (config->thread_pool_size > 0) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, config->thread_pool_size, NULL};
    }
    if (config->connection_limit > 0) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, config->connection_limit, NULL};
    }
    if (config->per_ip_connection_limit > 0) {
        options[n++] =
            (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, config->per_ip_connection_limit, NULL};
    }
    if (config->connection_timeout_seconds > 0) {
        options[n++] =
            (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, config->connection_timeout_seconds, NULL};
    }
    if (config->connection_memory_limit > 0) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                               (intptr_t)config->connection_memory_limit, NULL};
    }
    if (config->strict_for_client != 0) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, config->strict_for_client, NULL};
    }
    if (config->keep_escapes != 0) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)keep_escapes, NULL};
    }
    if (config->completed != NULL) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)config->completed,
                                               config->completed_context};
    }
    if (config->request_line != NULL) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)config->request_line,
                                               config->request_line_context};
    }
    if (config->connection_notify != NULL) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)config->connection_notify,
                                               config->connection_notify_context};
    }
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(config->flags, config->port, NULL, NULL, handler, handler_context,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

const struct sockaddr *CMicroHTTPDShims_client_address(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? NULL : info->client_addr;
}

void *CMicroHTTPDShims_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == NULL ? NULL : info->socket_context;
}

unsigned int CMicroHTTPDShims_http_status(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_HTTP_STATUS);
    return info == NULL ? 0 : info->http_status;
}

int CMicroHTTPDShims_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

void CMicroHTTPDShims_name_thread(const char *name) {
    (void)pthread_setname_np(pthread_self(), name);
}

int CMicroHTTPDShims_accept(int listener, struct sockaddr *address, socklen_t *length) {
    return accept4(listener, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int CMicroHTTPDShims_sock_diag_open(void) {
    int diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (diag < 0) return -1;
    // The kernel answers at once; the bound is for a kernel that never does.
    struct timeval bound = {.tv_sec = 0, .tv_usec = 200000};
    (void)setsockopt(diag, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    return diag;
}

int CMicroHTTPDShims_peer_uid(int diag, int fd, uint32_t *uid) {
    struct sockaddr_storage local, peer;
    socklen_t local_length = sizeof local, peer_length = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&local, &local_length) != 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &peer_length) != 0 || local.ss_family != peer.ss_family) {
        return -1;
    }
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    // The socket is reused: an answer that came after its bound must not be taken for this one.
    static _Thread_local uint32_t sequence;
    message.header.nlmsg_seq = ++sequence;
    message.request.sdiag_family = (uint8_t)local.ss_family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    // The client's socket: its source is our peer, its destination is us.
    if (local.ss_family == AF_INET) {
        const struct sockaddr_in *us = (const struct sockaddr_in *)&local, *them = (const struct sockaddr_in *)&peer;
        message.request.id.idiag_sport = them->sin_port;
        message.request.id.idiag_dport = us->sin_port;
        memcpy(message.request.id.idiag_src, &them->sin_addr, sizeof them->sin_addr);
        memcpy(message.request.id.idiag_dst, &us->sin_addr, sizeof us->sin_addr);
    } else if (local.ss_family == AF_INET6) {
        const struct sockaddr_in6 *us = (const struct sockaddr_in6 *)&local, *them = (const struct sockaddr_in6 *)&peer;
        message.request.id.idiag_sport = them->sin6_port;
        message.request.id.idiag_dport = us->sin6_port;
        memcpy(message.request.id.idiag_src, &them->sin6_addr, sizeof them->sin6_addr);
        memcpy(message.request.id.idiag_dst, &us->sin6_addr, sizeof us->sin6_addr);
    } else {
        return -1;
    }
    if (diag < 0) return -1;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    int found = -1;
    if (sendto(diag, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel) == (ssize_t)sizeof message) {
        union {
            struct nlmsghdr header;
            char bytes[4096];
        } answer;
        for (int reads = 0, done = 0; reads < 4 && !done; reads++) {
            ssize_t length = recv(diag, &answer, sizeof answer, 0);
            if (length <= 0) break;
            for (struct nlmsghdr *part = &answer.header; NLMSG_OK(part, (size_t)length);
                 part = NLMSG_NEXT(part, length)) {
                if (part->nlmsg_seq != message.header.nlmsg_seq) continue;  // a late answer to an earlier one
                done = 1;
                if (part->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
                    part->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
                    const struct inet_diag_msg *socket_info = NLMSG_DATA(part);
                    *uid = socket_info->idiag_uid;
                    found = 0;
                }
                break;
            }
        }
    }
    return found;
}
