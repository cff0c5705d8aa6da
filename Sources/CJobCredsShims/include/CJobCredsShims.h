/// Typed wrappers for the variadic C functions Swift cannot call.
///
/// One function per argument type, each prefixed `cjc_`. Nothing else belongs here: all logic
/// lives in Swift.
#ifndef CJOBCREDS_SHIMS_H
#define CJOBCREDS_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <microhttpd.h>

// MARK: libcurl: curl_easy_setopt / curl_easy_getinfo

typedef size_t (*cjc_curl_data_callback)(char *data, size_t size, size_t count, void *context);

CURLcode cjc_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode cjc_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode cjc_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode cjc_curl_setopt_data_callback(CURL *handle, CURLoption option, cjc_curl_data_callback callback);
CURLcode cjc_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

// MARK: libmicrohttpd: MHD_start_daemon

/// What `cjc_mhd_start` passes to `MHD_start_daemon`. Zero means "MHD's default" for each limit.
struct cjc_mhd_config {
    unsigned int flags;
    /// The address to bind: an IPv4 or IPv6 socket address, or NULL for any address on `port`.
    const struct sockaddr *address;
    uint16_t port;
    unsigned int thread_pool_size;
    unsigned int connection_limit;
    unsigned int per_ip_connection_limit;
    unsigned int connection_timeout_seconds;
    size_t connection_memory_limit;
    /// MHD_OPTION_STRICT_FOR_CLIENT: 1 rejects HTTP/1.1 without Host and spaces in the URL.
    int strict_for_client;
    MHD_RequestCompletedCallback completed;
    void *completed_context;
};

struct MHD_Daemon *cjc_mhd_start(const struct cjc_mhd_config *config, MHD_AccessHandlerCallback handler,
                                 void *handler_context);

/// The client's socket address (MHD_get_connection_info, MHD_CONNECTION_INFO_CLIENT_ADDRESS).
const struct sockaddr *cjc_mhd_client_address(struct MHD_Connection *connection);

/// The port the daemon is bound to (MHD_get_daemon_info, MHD_DAEMON_INFO_BIND_PORT); 0 if unknown.
uint16_t cjc_mhd_bound_port(struct MHD_Daemon *daemon);

// MARK: prctl

/// prctl(PR_SET_DUMPABLE, value).
int cjc_prctl_set_dumpable(int value);

#endif
