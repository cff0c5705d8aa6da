/*
 * The ceiling of libmicrohttpd on this machine: the smallest server that answers what jobcreds
 * answers. `make bench` runs it beside jobcreds and nginx. By default it starts the daemon with
 * jobcreds's flags and options (a poll thread pool of one thread per core, the same connection
 * limits and memory limit, libmicrohttpd's strict mode off) and answers on the handler's second
 * call, as jobcreds does (keep-alive holds if the client asks for it; `make bench` asks for
 * `Connection: close`, as jobcreds answers one request per connection); no gate, no router, no
 * audit line, and no accept loop of its own: libmicrohttpd accepts.
 *
 *   mhd-minimal PORT BODY_FILE [turbo] [epoll] [per-connection] [persistent] [memory=BYTES]
 *                              [increment=BYTES] [threads=N] [backlog=N] [audit=PATH]
 *
 * The optional words try what libmicrohttpd offers beyond jobcreds's settings; `audit=PATH`
 * appends a line the size of jobcreds's audit line to PATH per request, one write(2) each, as
 * jobcreds does, so the bench can tell the cost of the audit write from the rest of jobcreds.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *body;
static size_t body_length;
static int persistent;
static struct MHD_Response *shared;
static int audit = -1;

/* One line per request, about as long as jobcreds's (a timestamp, ids, a client address). */
static void write_audit_line(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char line[512];
    int length = snprintf(line, sizeof line,
                          "{\"time\":\"%lld.%09ld\",\"event\":\"request\",\"request_id\":\"c-minimal\","
                          "\"client\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/v1/credentials\",\"status\":200,"
                          "\"decision\":\"served\",\"access_key_id\":\"ASIAEXAMPLEEXAMPLE00\",\"expiration\":"
                          "\"2026-11-29T19:00:00Z\",\"token\":\"default\",\"job_id\":\"f4f4ff82-2d11-4b3c-9e2d-0123456789ab\","
                          "\"user_agent\":\"wrk\"}\n",
                          (long long)now.tv_sec, now.tv_nsec);
    if (length > 0 && write(audit, line, (size_t)length) < 0) abort();
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **req_cls) {
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    if (*req_cls == NULL) {  /* headers in: answering now would close the connection */
        *req_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (audit >= 0) write_audit_line();
    if (persistent) return MHD_queue_response(connection, 200, shared);
    struct MHD_Response *response = MHD_create_response_from_buffer(body_length, body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(response, "Content-Type", "application/json");
    MHD_add_response_header(response, "Cache-Control", "no-store");
    enum MHD_Result queued = MHD_queue_response(connection, 200, response);
    MHD_destroy_response(response);
    return queued;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT BODY_FILE [turbo] [per-connection] [persistent] [memory=N] "
                        "[increment=N] [threads=N] [backlog=N] [audit=PATH]\n", argv[0]);
        return 64;
    }
    FILE *file = fopen(argv[2], "rb");
    if (file == NULL) return 66;
    body = malloc(65536);
    body_length = fread(body, 1, 65536, file);
    fclose(file);

    unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC;
    unsigned int threads = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
    size_t memory = 28 * 1024, increment = 0;
    unsigned int backlog = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "turbo") == 0) flags |= MHD_USE_TURBO;
        else if (strcmp(argv[i], "epoll") == 0) flags = (flags & ~MHD_USE_POLL_INTERNAL_THREAD) | MHD_USE_EPOLL_INTERNAL_THREAD;
        else if (strcmp(argv[i], "per-connection") == 0) flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
        else if (strcmp(argv[i], "persistent") == 0) persistent = 1;
        else if (strncmp(argv[i], "memory=", 7) == 0) memory = strtoul(argv[i] + 7, NULL, 10);
        else if (strncmp(argv[i], "increment=", 10) == 0) increment = strtoul(argv[i] + 10, NULL, 10);
        else if (strncmp(argv[i], "threads=", 8) == 0) threads = (unsigned int)strtoul(argv[i] + 8, NULL, 10);
        else if (strncmp(argv[i], "backlog=", 8) == 0) backlog = (unsigned int)strtoul(argv[i] + 8, NULL, 10);
        else if (strncmp(argv[i], "audit=", 6) == 0) {
            audit = open(argv[i] + 6, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
            if (audit < 0) return 73;
        }
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 64; }
    }
    if (persistent) {
        shared = MHD_create_response_from_buffer(body_length, body, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(shared, "Content-Type", "application/json");
        MHD_add_response_header(shared, "Cache-Control", "no-store");
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_OptionItem options[9];
    size_t n = 0;
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &address};
    if ((flags & MHD_USE_THREAD_PER_CONNECTION) == 0 && threads > 1)
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 1024, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)memory, NULL};
    if (increment > 0) options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (intptr_t)increment, NULL};
    if (backlog > 0) options[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, backlog, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    struct MHD_Daemon *daemon = MHD_start_daemon(flags, (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL,
                                                 MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (daemon == NULL) {
        perror("MHD_start_daemon");
        return 1;
    }
    sigset_t wait;
    sigemptyset(&wait);
    sigaddset(&wait, SIGTERM);
    sigaddset(&wait, SIGINT);
    sigprocmask(SIG_BLOCK, &wait, NULL);
    int received;
    sigwait(&wait, &received);
    MHD_stop_daemon(daemon);
    return 0;
}
