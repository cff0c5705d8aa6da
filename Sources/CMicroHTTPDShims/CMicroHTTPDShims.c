#include "CMicroHTTPDShims.h"

#include <string.h>

/// The unescaper that unescapes nothing: paths and arguments arrive as sent.
static size_t keep_escapes(void *cls, struct MHD_Connection *connection, char *value) {
    (void)cls;
    (void)connection;
    return strlen(value);
}

struct MHD_Daemon *CMicroHTTPDShims_start(const struct CMicroHTTPDShims_config *config,
                                          MHD_AccessHandlerCallback handler, void *handler_context) {
    struct MHD_OptionItem options[11];
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
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(config->flags, config->port, NULL, NULL, handler, handler_context,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

const struct sockaddr *CMicroHTTPDShims_client_address(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? NULL : info->client_addr;
}

uint16_t CMicroHTTPDShims_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}
